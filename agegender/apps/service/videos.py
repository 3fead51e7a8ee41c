"""Video jobs: `POST /v1/videos` starts one, `GET /v1/videos/{id}` gives its progress then its rows, `DELETE` drops it.

Jobs run one at a time on a model thread borrowed from the pool; at most `limit` are kept (queued, running or
finished), and a finished one is dropped `ttl` seconds after it ended. The video is held in memory only.
"""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from ...inference.video import VideoError
from ..batch import VideoJob
from .errors import ERROR_RESPONSES
from .inputs import Options, upload_body, uploads
from .models import VideoJobOut
from .work import Full


class _Dropped(Exception):
    """The job was deleted while it ran."""


def video_rows(estimator, data: bytes, name: str, every: int, max_frames: int | None, on_frame) -> tuple[list, list]:
    """The one adapter to the video API: a video's per-frame rows (frames with faces, as the command line writes
    them) and per-person rows (as `--per-person`); `on_frame(frame, frames)` sees each analysed frame.
    Raises VideoError for a video that cannot be read."""
    job = VideoJob(estimator, data, name, every, max_frames)
    rows = [row for result in job.results(lambda _, r: on_frame(r.frame, job.info.frames)) for row in result.rows()]
    if job.error:
        raise job.error
    return rows, [person.to_dict() for person in job.persons]


@dataclass
class Job:
    id: str
    file: str
    status: str = "queued"
    progress: float = 0.0
    frames: int = 0
    error: str | None = None
    finished: float | None = None
    rows: list | None = None
    people: list | None = None
    dropped: threading.Event = field(default_factory=threading.Event)


class Jobs:
    """The video jobs kept: bounded in number, finished ones expiring. `add`, `status` and `drop` are coroutines,
    as are those of the Ray engine's shared store (`rayserve.RemoteJobs`), so that the routes serve either."""

    def __init__(self, workers, limit: int, ttl: float):
        self.workers, self.limit, self.ttl = workers, limit, ttl
        self._jobs: dict[str, Job] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="agegender-video")

    def __len__(self) -> int:
        return len(self._jobs)

    def _expire(self) -> None:
        now = time.monotonic()
        for job in [j for j in self._jobs.values() if j.finished and now - j.finished > self.ttl]:
            self._jobs.pop(job.id, None)

    async def add(self, data: bytes, name: str, options: dict, every: int, max_frames: int | None) -> dict:
        """The new job's status; Full when `limit` jobs are kept."""
        self._expire()
        if len(self._jobs) >= self.limit:
            raise Full(f"{len(self._jobs)} video jobs are kept, the limit: delete one or try again later")
        job = Job(uuid.uuid4().hex, name)
        self._jobs[job.id] = job
        self._pool.submit(self._run, job, data, options, every, max_frames)
        return self._out(job)

    def _run(self, job: Job, data: bytes, options: dict, every: int, max_frames: int | None) -> None:
        def on_frame(frame: int, frames: int) -> None:
            if job.dropped.is_set():
                raise _Dropped
            job.frames += 1
            job.progress = min(1.0, (frame + 1) / frames) if frames else 0.0

        try:
            with self.workers.borrow() as estimator:
                job.status = "running"
                estimator = self.workers.variant(estimator, **options)
                job.rows, job.people = video_rows(estimator, data, job.file, every, max_frames, on_frame)
                job.status, job.progress = "done", 1.0
        except VideoError as exc:
            job.status, job.error = "error", str(exc)
        except _Dropped:
            pass
        finally:
            if job.status in ("queued", "running"):
                job.status, job.error = "error", "the analysis stopped"
            job.finished = time.monotonic()

    async def status(self, job_id: str) -> dict | None:
        self._expire()
        job = self._jobs.get(job_id)
        return None if job is None else self._out(job)

    async def drop(self, job_id: str) -> bool:
        job = self._jobs.pop(job_id, None)
        if job:
            job.dropped.set()
        return job is not None

    def close(self) -> None:
        for job in self._jobs.values():
            job.dropped.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _out(self, job: Job) -> dict:
        expires = None if job.finished is None else max(0.0, self.ttl - (time.monotonic() - job.finished))
        fields = ("id", "file", "status", "progress", "frames", "error", "rows", "people")
        return {**{name: getattr(job, name) for name in fields}, "expires_in": expires}


router = APIRouter(prefix="/v1/videos", tags=["videos"])


@router.post("", status_code=202, response_model=VideoJobOut, responses=ERROR_RESPONSES,
             openapi_extra=upload_body(False, "a video"))
async def start_video(
    request: Request,
    opts: Options,
    every: Annotated[int, Query(ge=1, le=1000, description="analyse every Nth frame")] = 1,
    max_frames: Annotated[int | None, Query(ge=1, le=1_000_000, description="stop after this many")] = None,
) -> dict:
    """Start analysing a video (multipart `file`, or the raw body): answers the job's id at once."""
    files = await uploads(request)
    if len(files) > 1:
        raise HTTPException(422, "one video per request")
    name, data = files[0]
    if not data:
        raise VideoError(name, "the file is empty")
    return await request.app.state.service.jobs.add(data, name, opts, every, max_frames)


@router.get("/{job_id}", response_model=VideoJobOut, responses={404: {"description": "no such job (or expired)"}})
async def video_job(job_id: str, request: Request) -> dict:
    """A video job's progress; when done, its per-frame and per-person rows."""
    job = await request.app.state.service.jobs.status(job_id)
    if job is None:
        raise HTTPException(404, f"no video job {job_id} (unknown, deleted or expired)")
    return job


@router.delete("/{job_id}", status_code=204, responses={404: {"description": "no such job (or expired)"}})
async def drop_video(job_id: str, request: Request) -> Response:
    """Drop a video job (a running one stops)."""
    if not await request.app.state.service.jobs.drop(job_id):
        raise HTTPException(404, f"no video job {job_id} (unknown, deleted or expired)")
    return Response(status_code=204)
