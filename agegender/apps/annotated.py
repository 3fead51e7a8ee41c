"""Annotated copies of inputs: their file names (the input's name with its extension kept, so names cannot
collide, and never one used twice) and their JPEG bytes. The command line and the dashboard name them alike."""

import base64

import cv2
import numpy as np

MARK = ".annotated"


def annotated_name(name: str, frame: int | None = None, suffix: str = MARK + ".jpg") -> str:
    """`photo.png.annotated.jpg`, or `scan.tif.page2.annotated.jpg` for a page or frame of a multi-frame file."""
    page = f".page{frame + 1}" if frame is not None else ""
    return f"{name}{page}{suffix}"


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name` with -2, -3... before its `.annotated` mark if taken before; recorded as taken."""
    head, mark, tail = name.rpartition(MARK)
    unique, n = name, 1
    while unique in taken:
        n += 1
        unique = f"{head}-{n}{mark}{tail}"
    taken.add(unique)
    return unique


def jpeg_bytes(image: np.ndarray, quality: int = 92) -> bytes:
    """An RGB image as JPEG."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else b""


def jpeg_uri(image: np.ndarray, width: int | None = None) -> str:
    """An RGB image (at most `width` pixels wide) as a JPEG data URI, for an image column of a table."""
    if width and image.shape[1] > width:
        height = max(1, round(image.shape[0] * width / image.shape[1]))
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes(image)).decode()
