"""What the dashboard offers for download: rows as CSV or JSON, annotated images as a ZIP."""

import io
import json
import zipfile
from pathlib import PurePath

from ..inference.results import ImageResult
from .annotated import annotated_name, jpeg_bytes, unique_name
from .rows import RowWriter, write_people


def csv_text(rows: list[dict]) -> str:
    """Result rows as the command line's CSV."""
    buf = io.StringIO()
    RowWriter(buf, "csv").write_rows(rows)
    return buf.getvalue()


def rows_csv(results: list[ImageResult]) -> str:
    """The command line's CSV: one row per face, or one row with the status of an image without faces."""
    return csv_text([row for result in results for row in result.rows()])


def people_csv(persons) -> str:
    """One row per person of a video, as `predict --per-person` writes them."""
    buf = io.StringIO()
    write_people(buf, [person.to_dict() for person in persons])
    return buf.getvalue()


def json_text(rows: list[dict]) -> str:
    """Result rows as one JSON list."""
    return json.dumps(rows, indent=2)


def zip_bytes(annotated) -> bytes:
    """A ZIP of annotated images, one JPEG per (result, RGB image), named as the command line names them."""
    buf, taken = io.BytesIO(), set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        for result, image in annotated:
            name = unique_name(annotated_name(PurePath(result.source).name, result.frame), taken)
            archive.writestr(name, jpeg_bytes(image))
    return buf.getvalue()
