"""The service's response models, made from the output schema (`apps/schema.py`), itself made from the results."""

from typing import Literal

from pydantic import BaseModel, Field, create_model

from ...inference.results import STATUSES
from ..schema import FACE_TYPES, IMAGE_TYPES, PERSON_TYPES, ROW_TYPES, optional


def _fields(types: dict[str, type]) -> dict:
    """Pydantic fields: required, or None by default where the type allows None."""
    return {name: (kind, None) if optional(kind)[1] else (kind, ...) for name, kind in types.items()}


FaceOut = create_model("Face", face=(int, Field(description="the face's number in its image")), **_fields(FACE_TYPES))
ImageOut = create_model(
    "Image", **_fields(IMAGE_TYPES), faces=(list[FaceOut], Field(description="every face, as the command line's rows"))
)
Row = create_model("Row", **_fields(ROW_TYPES))
PersonOut = create_model("Person", **_fields(PERSON_TYPES))


class FileOut(BaseModel):
    """One uploaded file: its images (one, or one per page or frame), or why it could not be read."""

    file: str
    status: Literal[STATUSES]
    code: int = Field(description="the HTTP status this file alone would get: 200, or 413/415/422 with `error`")
    error: str | None = None
    results: list[ImageOut]


class BatchOut(BaseModel):
    """One entry per uploaded file, in order; a bad file is an error entry, the others are still answered."""

    files: list[FileOut]


class VideoJobOut(BaseModel):
    """A video job: its progress, then the per-frame rows (frames with faces) and per-person rows."""

    id: str
    file: str
    status: Literal["queued", "running", "done", "error"]
    progress: float = Field(description="share of the video's frames analysed, 0-1")
    frames: int = Field(description="frames analysed so far")
    error: str | None = None
    expires_in: float | None = Field(None, description="seconds until a finished job is dropped")
    rows: list[Row] | None = Field(None, description="when done: as the command line's rows")
    people: list[PersonOut] | None = Field(None, description="when done: as the command line's --per-person rows")


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str
