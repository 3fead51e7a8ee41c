"""Decoding any image input into RGB pictures, behind one gate with explicit size limits and clear errors."""

import io
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 100_000_000
EXIF_ORIENTATION = 0x0112
_SIGNATURES = {b"%PDF": "PDF", b"<svg": "SVG", b"<?xm": "SVG or XML", b"\x1aE\xdf\xa3": "a video (Matroska/WebM)"}


class ImageError(ValueError):
    """An input that cannot be read as an image (empty, corrupt, truncated): `source` names it, `reason` says why."""

    def __init__(self, source: str, reason: str):
        self.source, self.reason = source, reason
        super().__init__(f"{source}: {reason}" if source else reason)


class UnsupportedImage(ImageError):
    """An input in a format that is not a supported image (PDF, SVG, a video, an unknown format, another type)."""


class ImageTooLarge(ImageError):
    """An image whose header declares more pixels than the limit: refused before it is decoded."""

    def __init__(self, name: str, width: int, height: int, limit: int):
        self.width, self.height, self.limit = width, height, limit
        mpx = width * height / 1e6
        super().__init__(name, f"image too large: {width} x {height} = {mpx:.3g} Mpx (limit {limit / 1e6:.3g} Mpx)")


@dataclass
class Picture:
    """One decoded image, or one page or frame of a multi-page TIFF or an animated GIF/WebP.

    `pixels` is RGB uint8, possibly decoded at a reduced size (`scale` < 1) from a large JPEG; `size` is
    the original (width, height). `frame` is the page or frame number in a multi-frame file, else None.
    """

    pixels: np.ndarray
    size: tuple[int, int]
    frame: int | None = None

    @property
    def scale(self) -> float:
        return self.pixels.shape[1] / self.size[0]


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
        raise UnsupportedImage("", f"not an image array: shape {arr.shape}")
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
        rgba = img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return np.asarray(background)
    return np.asarray(img if img.mode == "RGB" else img.convert("RGB"))


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    w, h = img.size
    return (h, w) if img.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8) else (w, h)


def _frames(img: Image.Image, name: str, max_pixels: int, max_side: int | None) -> Iterator[Picture]:
    frames = getattr(img, "n_frames", 1)
    for index, frame in enumerate(ImageSequence.Iterator(img)):
        w, h = frame.size
        if w * h > max_pixels:
            raise ImageTooLarge(name, w, h, max_pixels)
        size = _oriented_size(frame)
        if frame.format == "JPEG" and max_side and max(w, h) > 2 * max_side:
            # Decode at 1/2, 1/4 or 1/8 size: still at least max_side, the most any detector looks at.
            k = max_side / max(w, h)
            frame.draft("RGB", (int(np.ceil(w * k)), int(np.ceil(h * k))))
        frame.load()
        pixels = _pil_to_rgb(frame)
        if frames == 1:
            frame.close()  # the decoded copy goes now, not when the caller is done with the pixels
        yield Picture(pixels, size, index if frames > 1 else None)


def _describe_unknown(data: bytes) -> str:
    for signature, kind in _SIGNATURES.items():
        if data.lstrip()[:4] == signature:
            return f"not an image: {kind} files are not supported (convert it to JPEG or PNG)"
    if data[4:8] in (b"ftyp", b"moov") or data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "not an image: this looks like a video (give videos to the command line or the Video page)"
    return "not an image (unrecognised format)"


_QUIET_OPEN = threading.Lock()


def _open(data: bytes) -> Image.Image:
    """`Image.open`; where Pillow's own guard refuses the header (`Image.MAX_IMAGE_PIXELS`, left as the host set
    it), the header is read by the format's plugin directly, so that the gate checks the size against its limit.
    Pillow's warning short of that (from 89 MP: "could be decompression bomb DOS attack") is not passed on for the
    same reason: the gate decides, and a 100 MP photo within it is read without alarm. `catch_warnings` swaps the
    process's filters, so decoding threads take turns here (the header only: 30-200 µs a photo)."""
    try:
        with _QUIET_OPEN, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        for kind in Image.ID:
            factory, accept = Image.OPEN[kind]
            if accept is None or accept(data[:16]) is True:
                try:
                    return factory(io.BytesIO(data), "")
                except (SyntaxError, IndexError, TypeError, OSError, ValueError):
                    continue
        raise


def _decode(data: bytes, name: str, max_pixels: int, max_side: int | None) -> Iterator[Picture]:
    if not data:
        raise ImageError(name, "the file is empty")
    try:
        with _open(data) as img:
            yield from _frames(img, name, max_pixels, max_side)
    except UnidentifiedImageError:
        raise UnsupportedImage(name, _describe_unknown(data)) from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        if isinstance(exc, ImageError):
            raise
        raise ImageError(name, f"corrupt or truncated image ({exc})") from None


def file_problem(path: Path, kind: str) -> str | None:
    """Why a path cannot be read as a `kind` file (a folder, absent, empty), or None if it can be tried."""
    if path.is_dir():
        return f"is a folder, not {kind} file"
    if not path.is_file():
        return "no such file"
    return "the file is empty" if path.stat().st_size == 0 else None


def source_name(src) -> str:
    """How an input is named in results and messages: its path, its file name, or '' for in-memory data."""
    if isinstance(src, str | Path):
        return str(src)
    return str(getattr(src, "name", "")) if hasattr(src, "read") else ""


def iter_pictures(
    src, bgr: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int | None = None, name: str = ""
) -> Iterator[Picture]:
    """Every page or frame of an input, decoded one at a time: a path, bytes, a file object, a PIL image or an array.

    EXIF orientation is applied; grayscale, alpha, palette, CMYK and 16-bit images are converted. `bgr` says
    that an array input is in OpenCV's BGR order. A page larger than `max_pixels` is refused from its header;
    a JPEG larger than twice `max_side` is decoded at a reduced size. Raises ImageError for anything unreadable;
    its message starts with `name` (default: the path, the file object's name, or "image").
    """
    if src is None:
        raise UnsupportedImage("", "no image given (None)")
    if isinstance(src, np.ndarray):
        rgb = array_to_rgb(src, bgr=bgr)
        if rgb.shape[0] * rgb.shape[1] > max_pixels:
            raise ImageTooLarge(name or "array", rgb.shape[1], rgb.shape[0], max_pixels)
        yield Picture(rgb, (rgb.shape[1], rgb.shape[0]))
    elif isinstance(src, Image.Image):
        yield from _frames(src, name or "image", max_pixels, max_side)
    elif isinstance(src, bytes | bytearray | memoryview):
        yield from _decode(bytes(src), name or "image", max_pixels, max_side)
    elif hasattr(src, "read"):
        yield from _decode(src.read(), name or source_name(src) or "upload", max_pixels, max_side)
    elif isinstance(src, str | Path):
        path = Path(src)
        problem = file_problem(path, "an image")
        if problem:
            raise ImageError(str(path), problem + (" (the command line reads folders)" if path.is_dir() else ""))
        yield from _decode(path.read_bytes(), name or str(path), max_pixels, max_side)
    else:
        raise UnsupportedImage(
            "",
            f"unsupported input of type {type(src).__name__}: "
            "give a path, bytes, a file object, a PIL image or an array",
        )


def read_image(src, bgr: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The first (or only) page of an input as an RGB uint8 array, at full size; ImageError if unreadable."""
    return next(iter_pictures(src, bgr=bgr, max_pixels=max_pixels)).pixels
