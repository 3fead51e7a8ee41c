"""The endpoints: faces in one image or a batch, health, readiness, metrics and what the service runs."""

import json
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

from ... import __version__
from ...inference.decode import ImageError
from ...inference.detect import DETECTORS
from ...paths import MODEL_SPEC
from ..batch import combined_status
from .errors import ERROR_RESPONSES, status_of
from .inputs import Options, upload_body, uploads
from .models import BatchOut, FaceOut, FileOut, ImageOut
from .videos import router as videos

router = APIRouter()
IMAGE_FIELDS = tuple(f for f in ImageOut.model_fields if f != "faces")


def _analyse(estimator, files: list[tuple[str, bytes]]) -> list:
    """Each file's results, or its ImageError (so that one bad file of a batch does not fail the others)."""
    out = []
    for name, data in files:
        try:
            out.append(estimator.analyze_batch([data], sources=[name], errors="raise"))
        except ImageError as exc:
            out.append(exc)
    return out


def image_out(result) -> dict:
    """One image, page or frame: the command line's row fields, with its faces nested."""
    rows = result.rows()
    faces = [{key: row[key] for key in FaceOut.model_fields} for row in rows if row["face"] is not None]
    return {**{key: rows[0][key] for key in IMAGE_FIELDS}, "faces": faces}


def file_out(name: str, outcome) -> dict:
    if isinstance(outcome, ImageError):
        return {"file": name, "status": "error", "code": status_of(outcome), "error": str(outcome), "results": []}
    status = combined_status([r.status for r in outcome])
    return {"file": name, "status": status, "code": 200, "error": None, "results": [image_out(r) for r in outcome]}


@router.post("/v1/faces", tags=["faces"], response_model=FileOut, responses=ERROR_RESPONSES,
             openapi_extra=upload_body(False))
async def faces(request: Request, opts: Options) -> dict:
    """Every face in one image (multipart `file`, or the raw body): box, landmarks, age with its spread and
    interval, age group, gender with its probability; one result per page or frame of a multi-page file."""
    files = await uploads(request)
    if len(files) > 1:
        raise HTTPException(422, "one file per request here: send several to /v1/faces/batch")
    service = request.app.state.service
    (outcome,) = await service.workers.run(_analyse, files, options=opts)
    if isinstance(outcome, ImageError):
        raise outcome
    service.metrics.counted(outcome)
    return file_out(files[0][0], outcome)


@router.post("/v1/faces/batch", tags=["faces"], response_model=BatchOut, responses=ERROR_RESPONSES,
             openapi_extra=upload_body(True))
async def faces_batch(request: Request, opts: Options) -> dict:
    """Several images (multipart `files`): one entry per file, a bad one an error entry with its own code."""
    files = await uploads(request)
    service = request.app.state.service
    if len(files) > service.settings.max_files:
        raise HTTPException(413, f"{len(files)} files: at most {service.settings.max_files} in one batch")
    outcomes = await service.workers.run(_analyse, files, options=opts)
    for outcome in outcomes:
        if not isinstance(outcome, ImageError):
            service.metrics.counted(outcome)
    return {"files": [file_out(name, outcome) for (name, _), outcome in zip(files, outcomes, strict=True)]}


@router.get("/healthz", tags=["service"])
def healthz() -> dict:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", tags=["service"], responses={503: {"description": "the models are not loaded yet"}})
def readyz(request: Request, response: Response) -> dict:
    """The models are loaded and requests are analysed."""
    ready = getattr(request.app.state, "service", None) is not None
    response.status_code = 200 if ready else 503
    return {"ready": ready}


@router.get("/metrics", tags=["service"], response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, latency, images, faces, errors, queue depth, video jobs."""
    return Response(request.app.state.metrics.text(), media_type=request.app.state.metrics.content_type)


def _scalars(path: Path) -> dict:
    data = json.loads(path.read_text()) if path.is_file() else {}
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool) and not isinstance(v, dict)}


@router.get("/v1/info", tags=["service"])
def info(request: Request) -> dict:
    """The package and model versions, the model's measured figures, the detectors and the service's limits."""
    settings = request.app.state.service.settings
    spec = Path(settings.options.get("model_spec") or MODEL_SPEC)
    return {
        "version": __version__,
        "model": _scalars(spec),
        "figures": _scalars(spec.parent / "metrics.json"),
        "detectors": sorted(DETECTORS),
        "limits": {
            "max_body_bytes": settings.max_body,
            "max_pixels": settings.max_pixels,
            "max_files": settings.max_files,
            "workers": settings.workers,
            "queue": settings.queue,
            "timeout_seconds": settings.timeout,
            "video_jobs": settings.video_jobs,
            "video_ttl_seconds": settings.video_ttl,
        },
    }


router.include_router(videos)  # after the faces: the order of the docs
