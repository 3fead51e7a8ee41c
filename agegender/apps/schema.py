"""The output schema, derived from the result dataclasses: the row fields and their types, in the rows' order.

CSV columns (`rows.py`), the Ray job's Arrow schema (`scale.py`) and the service's response models
(`service/models.py`) are all made from these, so a new field of `Face` or `Person` is one line where it is defined.
"""

from types import NoneType, UnionType
from typing import Literal, Union, get_args, get_origin, get_type_hints

from ..inference.people import PERSON_FIELDS, Person
from ..inference.results import FACE_FIELDS, STATUSES, Face, ImageResult, failed

# The image's row fields named otherwise than its attributes.
_RENAMED = {"file": "source", "image_width": "width", "image_height": "height"}
_IMAGE_HINTS = {**get_type_hints(ImageResult), "status": Literal[STATUSES]}
FACE_TYPES: dict[str, type] = {k: v for k, v in get_type_hints(Face).items() if k in FACE_FIELDS}  # not descriptor
ROW_KEYS = tuple(failed("", "").rows()[0])  # a row without a face has every key, with empty face fields
IMAGE_TYPES: dict[str, type] = {
    key: _IMAGE_HINTS[_RENAMED.get(key, key)] for key in ROW_KEYS if key not in FACE_TYPES and key != "face"
}
_FACE_NUMBER = int | None  # the face's number in its image; empty in a row without a face
ROW_TYPES: dict[str, type] = {
    key: FACE_TYPES[key] | None if key in FACE_TYPES else IMAGE_TYPES.get(key, _FACE_NUMBER) for key in ROW_KEYS
}
PERSON_TYPES: dict[str, type] = {k: v for k, v in get_type_hints(Person).items() if k in PERSON_FIELDS}
BOX_COLUMNS = ("x1", "y1", "x2", "y2")
# CSV: who first, then the face's figures and the image's size, then the long or rare fields; the box as 4 columns.
_CSV_FIRST, _CSV_LAST = ("file", "frame", "face", "track_id"), ("landmarks", "status", "error")
_CSV_ORDER = [
    *_CSV_FIRST, *(k for k in (*FACE_TYPES, *IMAGE_TYPES) if k not in _CSV_FIRST + _CSV_LAST), *_CSV_LAST
]
CSV_COLUMNS = [column for key in _CSV_ORDER for column in (BOX_COLUMNS if key == "box" else (key,))]


def optional(kind) -> tuple[object, bool]:
    """(the type without None, whether None was allowed)."""
    if get_origin(kind) in (Union, UnionType) and NoneType in get_args(kind):
        rest = [a for a in get_args(kind) if a is not NoneType]
        return (rest[0] if len(rest) == 1 else Union[tuple(rest)]), True  # noqa: UP007
    return kind, False
