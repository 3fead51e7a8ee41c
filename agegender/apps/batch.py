"""Batch processing of image files, folders and videos: a status and rows for every input, annotated copies."""

import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..inference.decode import ImageError, Picture
from ..inference.estimator import Estimator
from ..inference.people import Person, people
from ..inference.render import annotate
from ..inference.results import ImageResult, failed, no_face
from ..inference.tracking import SAME_PERSON, FaceTracker
from ..inference.video import VideoError, analyze_video, video_info
from .annotated import annotated_name, jpeg_bytes, unique_name
from .inputs import Input
from .rows import RowWriter

CHUNK = 8  # images per model batch (each is decoded, detected and aligned in turn, then let go)


def combined_status(statuses: list[str]) -> str:
    """One input's status from those of its pages, frames or rows: ok if any has faces, else error if any failed,
    else no_face."""
    if "ok" in statuses:
        return "ok"
    return "error" if "error" in statuses else "no_face"


def input_status(results: list[ImageResult]) -> str:
    return combined_status([r.status for r in results])


def counted(n: int, noun: str) -> str:
    """`1 input`, `3 inputs`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


class VideoJob:
    """One video's contribution to the rows, the same wherever it runs (here, in a Ray actor, on the Video page).

    `results` yields each analysed frame that has faces, as it goes, then one no_face result if none had;
    a video that cannot be read yields one error result (its VideoError is kept in `error`). With `annotated` (a
    path or a binary file object) the annotated video is written there. Afterwards `persons` holds its people
    (tracks joined by appearance, with `same_person` as the joining distance) and `cuts` the frames that began a new
    scene.
    """

    def __init__(self, estimator: Estimator, src, name: str, every: int = 1, max_frames: int | None = None,
                 annotated=None, same_person: float = SAME_PERSON):
        self.estimator, self.src, self.name, self.every, self.max_frames = estimator, src, name, every, max_frames
        self.annotated, self.same_person = annotated, same_person
        self.info = None
        self.persons: list[Person] = []
        self.cuts: list[int] = []
        self.error: VideoError | None = None

    def results(self, on_frame=None) -> Iterator[ImageResult]:
        """The results for the rows; `on_frame(frame, result)` also sees every analysed frame."""
        seen, tracker = [], FaceTracker(same_person=self.same_person, threads=self.estimator.threads)
        try:
            self.info = video_info(self.src, self.name)
            frames = analyze_video(self.estimator, self.src, self.name, self.every, self.max_frames, self.annotated,
                                   tracker)
            for frame, result in frames:
                seen.append(result)
                if on_frame:
                    on_frame(frame, result)
                if result.faces:
                    yield result
        except VideoError as exc:
            self.error = exc
            yield failed(self.name, str(exc))
            return
        self.cuts = list(tracker.cuts)
        self.persons = people(seen, self.info.fps, self.same_person, self.cuts)
        if not any(r.faces for r in seen):
            yield no_face(self.name, (seen[0].width, seen[0].height))


@dataclass
class Summary:
    """What a batch run did; ok + no_face + errors always adds up to the inputs."""

    inputs: int = 0
    ok: int = 0
    no_face: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    faces: int = 0
    frames: int = 0
    started: float = field(default_factory=time.perf_counter)

    def add(self, source: str, results: list[ImageResult]) -> str:
        """Count one input from its results; returns its status."""
        self.inputs += 1
        status = input_status(results)
        if status == "error":
            self.errors.append((source, next(r.error for r in results if r.error)))
        else:
            setattr(self, status, getattr(self, status) + 1)
        self.faces += sum(len(r.faces) for r in results)
        return status

    def line(self) -> str:
        seconds = time.perf_counter() - self.started
        frames = f" ({self.frames} video frames)" if self.frames else ""
        errors = counted(len(self.errors), "error")
        return (
            f"{counted(self.inputs, 'input')}: {self.ok} ok, {self.no_face} no face, {errors}; "
            f"{counted(self.faces, 'face')}{frames}; {self.inputs / max(seconds, 1e-9):.1f} inputs/s"
        )


class BatchRunner:
    """Runs the estimator over many inputs: every input gets rows and a status, whatever goes wrong with it."""

    def __init__(
        self,
        estimator: Estimator,
        writer: RowWriter,
        annotate_dir=None,
        every: int = 1,
        max_frames: int | None = None,
        progress: bool = True,
        workers: int | None = None,
        same_person: float = SAME_PERSON,
    ):
        self.estimator, self.writer, self.same_person = estimator, writer, same_person
        self.annotate_dir = Path(annotate_dir) if annotate_dir else None
        self.every, self.max_frames, self.progress = every, max_frames, progress
        self.workers = workers or os.cpu_count() or 1
        self.summary = Summary()
        self.people: list[Person] = []
        self._taken: set[str] = set()

    def _target(self, item: Input, frame: int | None, suffix: str) -> Path:
        """An annotated file's path: the input's relative path with its extension kept, never one used before."""
        target = Path(unique_name(annotated_name(str(self.annotate_dir / item.relative), frame, suffix), self._taken))
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _report(self, item: Input, results: list[ImageResult], written: bool = False) -> None:
        if not written:
            for result in results:
                self.writer.write(result)
        if self.summary.add(str(item.path), results) == "error":
            tqdm.write(f"error: {self.summary.errors[-1][1]}", file=sys.stderr)

    def _analyse(self, estimator: Estimator, items: list[Input]):
        keep: list[Picture | None] | None = [] if self.annotate_dir else None
        return items, estimator.analyze_batch([i.path for i in items], keep=keep), keep

    def _images(self, items: list[Input], results: list[ImageResult], keep) -> None:
        by_source: dict[str, list[ImageResult]] = {}
        for k, result in enumerate(results):
            by_source.setdefault(result.source, []).append(result)
            picture = keep[k] if keep else None
            if picture is not None:
                item = next(i for i in items if str(i.path) == result.source)
                image = annotate(picture.pixels, result.faces, scale=picture.scale)
                self._target(item, result.frame, ".annotated.jpg").write_bytes(jpeg_bytes(image))
        for item in items:
            self._report(item, by_source[str(item.path)])

    def _video(self, item: Input, bar: tqdm) -> None:
        annotated = self._target(item, None, ".annotated.mp4") if self.annotate_dir else None
        job = VideoJob(self.estimator, item.path, str(item.path), self.every, self.max_frames, annotated,
                       self.same_person)

        def on_frame(frame, result):
            self.summary.frames += 1
            bar.set_postfix_str(f"{item.path.name} frame {result.frame + 1}/{job.info.frames}")

        written = []
        for result in job.results(on_frame):
            self.writer.write(result)
            written.append(result)
        self.people += job.persons
        self._report(item, written, written=True)

    def run(self, inputs: list[Input]) -> Summary:
        """Process every input, rows in input order: images in model batches of up to CHUNK files, analysed by
        one worker per core when there are several batches; videos frame by frame with tracking."""
        images = sum(not item.is_video for item in inputs)
        workers = self.estimator.replicas(self.workers) if images > CHUNK and self.workers > 1 else [self.estimator]
        with ThreadPoolExecutor(len(workers)) as pool, tqdm(
            total=len(inputs), unit="file", disable=not self.progress, file=sys.stderr
        ) as bar:
            pending: list[Input] = []
            running: deque = deque()

            def write_done(keep_running: int) -> None:
                while len(running) > keep_running:
                    done = running.popleft().result()
                    bar.set_postfix_str(done[0][-1].path.name)
                    self._images(*done)
                    bar.update(len(done[0]))

            def submit() -> None:
                if pending:
                    running.append(pool.submit(self._analyse, workers[len(running) % len(workers)], list(pending)))
                    pending.clear()
                    write_done(len(workers))

            for item in inputs:
                if item.is_video:
                    submit()
                    write_done(0)
                    self._video(item, bar)
                    bar.update(1)
                    continue
                pending.append(item)
                if len(pending) == CHUNK:
                    submit()
            submit()
            write_done(0)
        return self.summary


__all__ = ["BatchRunner", "ImageError", "Summary", "VideoJob"]
