"""Output rows: one per face (or one saying why an input has none), as JSON lines or CSV; and per-person rows."""

import csv
import json

from ..inference.people import PERSON_FIELDS
from ..inference.results import ImageResult
from .schema import BOX_COLUMNS, CSV_COLUMNS


def flat_row(row: dict) -> dict:
    """A result row with its box as x1..y2 and its landmarks as JSON text, as the CSV has it."""
    row = dict(row)
    box = row.pop("box") or [None] * 4
    row.update(zip(BOX_COLUMNS, box, strict=True))
    row["landmarks"] = json.dumps(row["landmarks"]) if row["landmarks"] is not None else None
    return row


class RowWriter:
    """Writes result rows as JSON lines or CSV, one per face, or one per image, page or video without faces."""

    def __init__(self, stream, fmt: str = "jsonl"):
        self.stream, self.fmt = stream, fmt
        self._csv = None
        if fmt == "csv":
            self._csv = csv.DictWriter(stream, CSV_COLUMNS, extrasaction="ignore")
            self._csv.writeheader()

    def write_rows(self, rows: list[dict]) -> None:
        for row in rows:
            if self._csv:
                self._csv.writerow(flat_row(row))
            else:
                self.stream.write(json.dumps(row) + "\n")
        self.stream.flush()

    def write(self, result: ImageResult) -> None:
        self.write_rows(result.rows())


def write_people(stream, rows: list[dict]) -> None:
    """One CSV row per person of the videos analysed, from their `Person.to_dict()` rows."""
    writer = csv.DictWriter(stream, list(PERSON_FIELDS))
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "tracks": json.dumps(row["tracks"]), "best_box": json.dumps(row["best_box"])})
