"""What a request brings: its files (multipart form or raw body, held in memory) and its analysis options."""

from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Query, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ...inference.detect import DETECTORS
from ...inference.estimator import Estimator


def _binary(description: str) -> dict:
    return {"type": "string", "format": "binary", "description": description}


def upload_body(many: bool, what: str = "an image") -> dict:
    """The OpenAPI request body: multipart form files, or (one file) the raw bytes."""
    field = "files" if many else "file"
    part = {"type": "array", "items": _binary(what)} if many else _binary(what)
    content = {"multipart/form-data": {"schema": {"type": "object", "properties": {field: part}, "required": [field]}}}
    if not many:
        content["application/octet-stream"] = {"schema": _binary(f"{what}'s bytes (any content type but multipart)")}
    return {"requestBody": {"required": True, "content": content}}


class _InMemory(MultiPartParser):
    spool_max_size = 1 << 62  # parts never roll over to a temporary file: uploads stay in memory


async def uploads(request: Request) -> list[tuple[str, bytes]]:
    """(name, bytes) of each file of a multipart form, or of the raw body (named by `?name=`, else "upload")."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return [(request.query_params.get("name") or "upload", await request.body())]
    limit = request.app.state.service.settings.max_body
    try:
        form = await _InMemory(request.headers, request.stream(), max_part_size=limit).parse()
    except MultiPartException as exc:
        raise HTTPException(400, f"malformed multipart form: {exc.message}") from None
    files = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files.append((value.filename or key, await value.read()))
        else:
            files.append((key, value.encode()))
    if not files:
        raise HTTPException(422, "no file in the form: send the image as a form file, or as the raw body")
    return files


def options(
    detector: Annotated[Literal[tuple(sorted(DETECTORS))] | None, Query(description="face detector")] = None,
    threshold: Annotated[float | None, Query(ge=Estimator.DETECTOR_FLOOR, le=1.0,
                                             description="detection score threshold (default: the detector's)")] = None,
    min_face: Annotated[float | None, Query(ge=0, le=10000, description="ignore faces narrower (px)")] = None,
    flip: Annotated[bool | None, Query(description="average each face with its mirror image")] = None,
) -> dict:
    """The analysis options a request may set (None: the service's)."""
    return {"detector": detector, "score_threshold": threshold, "min_face": min_face, "flip": flip}


Options = Annotated[dict, Depends(options)]
