"""What the dashboard offers for download: rows as CSV or JSON, annotated images as a ZIP, images as JPEG."""

import io
import json
import zipfile
from pathlib import PurePath

import cv2
import numpy as np

from ..inference.results import ImageResult
from .rows import RowWriter, write_people


def rows_csv(results: list[ImageResult]) -> str:
    """The command line's CSV: one row per face, or one row with the status of an image without faces."""
    buf = io.StringIO()
    writer = RowWriter(buf, "csv")
    for result in results:
        writer.write(result)
    return buf.getvalue()


def people_csv(persons) -> str:
    """One row per person (track) of a video, as `predict --per-person` writes them."""
    buf = io.StringIO()
    write_people(buf, persons)
    return buf.getvalue()


def rows_json(results: list[ImageResult]) -> str:
    return json.dumps([row for result in results for row in result.rows()], indent=2)


def jpeg_bytes(image: np.ndarray, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else b""


def annotated_name(result: ImageResult) -> str:
    """`photo.png.annotated.jpg` (`photo.tif.page2.annotated.jpg`): the extension kept, so names cannot collide."""
    page = f".page{result.frame + 1}" if result.frame is not None else ""
    return f"{PurePath(result.source).name}{page}.annotated.jpg"


def zip_bytes(named_images) -> bytes:
    """A ZIP of (name, RGB image) pairs as JPEG files; a name seen before gets -2, -3..."""
    buf, seen = io.BytesIO(), set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        for name, image in named_images:
            unique, n = name, 1
            while unique in seen:
                n += 1
                unique = name.replace(".annotated.jpg", f"-{n}.annotated.jpg")
            seen.add(unique)
            archive.writestr(unique, jpeg_bytes(image))
    return buf.getvalue()
