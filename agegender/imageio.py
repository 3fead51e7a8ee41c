"""Decoding any image input into an RGB uint8 array, with clear errors for bad input."""

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = 200_000_000
EXIF_ORIENTATION = 0x0112


class ImageError(ValueError):
    """An input that cannot be read as an image."""


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        top = 1.0 if arr.size and float(np.nanmax(arr)) <= 1.0 else 255.0
        return np.clip(np.nan_to_num(arr) * (255.0 / top), 0, 255).astype(np.uint8)
    top = 65535.0 if arr.size and int(arr.max()) > 255 else 255.0
    return np.clip(arr.astype(np.float64) * (255.0 / top), 0, 255).astype(np.uint8)


def array_to_rgb(arr: np.ndarray, bgr: bool = False) -> np.ndarray:
    """Any 2-D or 3-D (gray, gray+alpha, RGB, RGBA) array as contiguous RGB uint8."""
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)) or 0 in arr.shape:
        raise ImageError(f"not an image array: shape {arr.shape}")
    arr = _to_uint8(arr)
    if arr.ndim == 2:
        return np.ascontiguousarray(np.repeat(arr[:, :, None], 3, axis=2))
    if arr.shape[2] == 2:
        return np.ascontiguousarray(np.repeat(arr[:, :, :1], 3, axis=2))
    rgb = arr[:, :, :3]
    if bgr:
        rgb = rgb[:, :, ::-1]
    return np.ascontiguousarray(rgb)


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    if img.getexif().get(EXIF_ORIENTATION, 1) != 1:
        img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return array_to_rgb(np.asarray(img))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        return np.asarray(background)
    return np.asarray(img if img.mode == "RGB" else img.convert("RGB"))


def _decode_bytes(data: bytes, name: str) -> np.ndarray:
    if not data:
        raise ImageError(f"{name}: the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return _pil_to_rgb(img)
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image (unrecognised format)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{name}: corrupt or truncated image ({exc})") from None


def read_image(src, bgr: bool = False) -> np.ndarray:
    """RGB uint8 array from a path, bytes, a file-like object, a PIL image or an array.

    EXIF orientation is applied; grayscale, alpha and 16-bit images are converted. `bgr` says
    that an array input is in OpenCV's BGR order. Raises ImageError for anything unreadable.
    """
    if isinstance(src, np.ndarray):
        return array_to_rgb(src, bgr=bgr)
    if isinstance(src, Image.Image):
        return _pil_to_rgb(src)
    if isinstance(src, (bytes, bytearray, memoryview)):
        return _decode_bytes(bytes(src), "image")
    if hasattr(src, "read"):
        return _decode_bytes(src.read(), getattr(src, "name", "upload"))
    path = Path(src)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    return _decode_bytes(path.read_bytes(), str(path))
