"""A corpus of awkward inputs, generated in a folder: broken, odd-format, huge-declaring and good files.

`write_corpus(folder)` returns {file name: expected status} ("ok", "no_face" or "error"); every file is small
on disk. Used by the tests and by bench/hostile_inputs.py.
"""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from agegender import SAMPLES
from agegender.apps.synthetic import jitter_frames, write_mp4

BOMBS = {"bomb_20000x15000.png": (20000, 15000), "bomb_14000x14000.png": (14000, 14000),
         "bomb_30000x30000.png": (30000, 30000)}


def png_declaring(width: int, height: int, idat: bytes = b"") -> bytes:
    """A valid PNG header declaring `width` x `height` (a decompression bomb, or a truncated PNG)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = idat or zlib.compress(b"\0" * (1 + 3 * min(width, 4096)) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def write_corpus(folder) -> dict[str, str]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    face = Image.open(SAMPLES / "grace_hopper.jpg").convert("RGB")
    other = Image.open(SAMPLES / "obama_official_portrait.jpg").convert("RGB").resize((455, 568))
    blank = Image.new("RGB", (320, 240), (180, 190, 200))
    jpeg = _save(face, "JPEG", quality=90)
    files: dict[str, tuple[bytes, str]] = {
        "portrait.jpg": (jpeg, "ok"),
        "portrait.png": (_save(face, "PNG"), "ok"),
        "portrait.webp": (_save(face, "WEBP", quality=80), "ok"),
        "portrait.bmp": (_save(face, "BMP"), "ok"),
        "portrait_grey.jpg": (_save(face.convert("L"), "JPEG"), "ok"),
        "portrait_progressive.jpg": (_save(face, "JPEG", progressive=True), "ok"),
        "portrait_cmyk.jpg": (_save(face.convert("CMYK"), "JPEG"), "ok"),
        "portrait_rgba.png": (_save(face.convert("RGBA"), "PNG"), "ok"),
        "portrait_la.png": (_save(face.convert("LA"), "PNG"), "ok"),
        "portrait_palette.png": (_save(face.convert("P"), "PNG"), "ok"),
        "portrait_palette_transparent.png": (_save(face.convert("P"), "PNG", transparency=0), "ok"),
        "portrait_16bit.png": (_save(Image.fromarray(np.asarray(face.convert("L"), np.uint16) * 257), "PNG"), "ok"),
        "portrait_float.tif": (_save(Image.fromarray(np.asarray(face.convert("L"), np.float32) / 255), "TIFF"), "ok"),
        "portrait.ppm": (_save(face, "PPM"), "ok"),
        "portrait.ico": (_save(face.resize((256, 256)), "ICO"), "ok"),
        "portrait_exif_rotated.jpg": (_save(face.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=_orientation(6)),
                                      "ok"),
        "portrait_bad_exif.jpg": (jpeg[:2] + b"\xff\xe1\x00\x10Exif\x00\x00garbage!" + jpeg[2:], "ok"),
        "png_named.jpg": (_save(face, "PNG"), "ok"),
        "três_rostos_ünïcode.jpg": (jpeg, "ok"),
        "pages.tif": (_save(face, "TIFF", save_all=True, append_images=[blank, other]), "ok"),
        "animated.gif": (_save(other, "GIF", save_all=True, append_images=[face, blank], duration=100), "ok"),
        "animated.webp": (_save(face, "WEBP", save_all=True, append_images=[blank.resize(face.size)], duration=100),
                          "ok"),
        "blank.jpg": (_save(blank, "JPEG"), "no_face"),
        "one_pixel.png": (_save(Image.new("RGB", (1, 1)), "PNG"), "no_face"),
        "tall_5x5000.png": (_save(Image.new("RGB", (5, 5000), (90, 90, 90)), "PNG"), "no_face"),
        "wide_5000x5.png": (_save(Image.new("L", (5000, 5), 90), "PNG"), "no_face"),
        "empty.jpg": (b"", "error"),
        "notes.txt": (b"just some text, not a picture", "error"),
        "text_named.png": (b"this is not a PNG at all", "error"),
        "truncated.jpg": (jpeg[: len(jpeg) // 3], "error"),
        "truncated.png": (png_declaring(800, 600, zlib.compress(b"\0" * 5000)[:40]), "error"),
        "corrupt_header.jpg": (b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, "error"),
        "random.bin.jpg": (np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes(), "error"),
        "gzip_named.jpg": (zlib.compress(jpeg), "error"),
        "drawing.svg": (b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect/></svg>", "error"),
        "document.pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF", "error"),
        "photo.heic": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100, "error"),
        "empty.mp4": (b"", "error"),
        "garbage.avi": (b"RIFF\x10\x00\x00\x00AVI LIST" + b"\x01" * 500, "error"),
        "not_video.mkv": (b"plain text in a video's clothes", "error"),
    }
    for name, (width, height) in BOMBS.items():
        files[name] = (png_declaring(width, height), "error")
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    clip = write_mp4(jitter_frames(np.asarray(face), 12, size=(320, 240)), folder / "clip.mp4", fps=12)
    (folder / "truncated.mp4").write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    expected = {name: status for name, (_, status) in files.items()}
    return {**expected, "clip.mp4": "ok", "truncated.mp4": "error"}


def _orientation(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif
