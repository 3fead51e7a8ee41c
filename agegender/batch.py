"""Batch processing of image files, folders and videos: rows out, optional annotated copies."""

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
from tqdm import tqdm

from .estimator import Estimator, make_faces
from .imageio import ImageError, read_image
from .render import annotate
from .results import ImageResult
from .video import VIDEO_EXTENSIONS, VideoAnalyzer, VideoError, open_video, read_frames

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".jfif"}
CSV_COLUMNS = [
    "file",
    "frame",
    "face",
    "track_id",
    "x1",
    "y1",
    "x2",
    "y2",
    "detector_score",
    "age",
    "age_std",
    "age_low",
    "age_high",
    "age_group",
    "gender",
    "gender_probability",
    "image_width",
    "image_height",
    "landmarks",
]
CHUNK = 8


def expand_inputs(inputs) -> list[Path]:
    """Files as given; folders searched recursively for images and videos (sorted)."""
    files = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(
                p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
            )
        else:
            files.append(item)
    return files


class RowWriter:
    """Writes one row per face as JSON lines or CSV."""

    def __init__(self, stream, fmt: str = "jsonl"):
        self.stream, self.fmt = stream, fmt
        self._csv = None
        if fmt == "csv":
            self._csv = csv.DictWriter(stream, CSV_COLUMNS, extrasaction="ignore")
            self._csv.writeheader()

    def write(self, result: ImageResult) -> None:
        for row in result.rows():
            if self._csv:
                x1, y1, x2, y2 = row.pop("box")
                row.update(x1=x1, y1=y1, x2=x2, y2=y2, landmarks=json.dumps(row["landmarks"]))
                self._csv.writerow(row)
            else:
                self.stream.write(json.dumps(row) + "\n")
        self.stream.flush()


@dataclass
class Summary:
    """What a batch run did: inputs processed, faces found, and the inputs it skipped with why."""

    processed: int = 0
    faces: int = 0
    frames: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


class BatchRunner:
    """Runs the estimator over many inputs, skipping and reporting unreadable ones."""

    def __init__(
        self,
        estimator: Estimator,
        writer: RowWriter,
        annotate_dir=None,
        every: int = 1,
        max_frames: int | None = None,
        progress: bool = True,
    ):
        self.estimator, self.writer = estimator, writer
        self.annotate_dir = Path(annotate_dir) if annotate_dir else None
        self.every, self.max_frames, self.progress = every, max_frames, progress
        self.summary = Summary()
        if self.annotate_dir:
            self.annotate_dir.mkdir(parents=True, exist_ok=True)

    def _skip(self, path: Path, message: str) -> None:
        self.summary.failed.append((str(path), message))
        tqdm.write(f"skipped: {message}", file=sys.stderr)

    def _emit(self, result: ImageResult) -> None:
        self.writer.write(result)
        self.summary.faces += len(result.faces)

    def _images(self, paths: list[Path]) -> None:
        decoded = []
        for path in paths:
            try:
                decoded.append((path, read_image(path)))
            except ImageError as exc:
                self._skip(path, str(exc))
        if not decoded:
            return
        pairs = self.estimator.analyze_arrays([image for _, image in decoded])
        for (path, image), (found, out) in zip(decoded, pairs, strict=True):
            result = ImageResult(str(path), image.shape[1], image.shape[0], make_faces(found, out))
            self._emit(result)
            self.summary.processed += 1
            if self.annotate_dir:
                target = self.annotate_dir / f"{path.stem}.annotated.jpg"
                cv2.imwrite(str(target), cv2.cvtColor(annotate(image, result.faces), cv2.COLOR_RGB2BGR))

    def _video(self, path: Path, bar: tqdm) -> None:
        try:
            capture, fps, total = open_video(path)
            capture.release()
            analyzer, writer, chunk = VideoAnalyzer(self.estimator), None, []

            def flush():
                nonlocal writer
                results = analyzer.process([f for _, f in chunk], [i for i, _ in chunk], str(path))
                for (_, frame), result in zip(chunk, results, strict=True):
                    self._emit(result)
                    if self.annotate_dir:
                        if writer is None:
                            target = self.annotate_dir / f"{path.stem}.annotated.mp4"
                            size = (frame.shape[1], frame.shape[0])
                            writer = cv2.VideoWriter(
                                str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps / self.every, size
                            )
                        writer.write(cv2.cvtColor(annotate(frame, result.faces), cv2.COLOR_RGB2BGR))
                self.summary.frames += len(chunk)
                bar.set_postfix_str(f"{path.name} frame {chunk[-1][0]}/{total}")
                chunk.clear()

            for index, frame in read_frames(path, self.every, self.max_frames):
                chunk.append((index, frame))
                if len(chunk) == CHUNK:
                    flush()
            if chunk:
                flush()
            if writer is not None:
                writer.release()
            self.summary.processed += 1
        except VideoError as exc:
            self._skip(path, str(exc))

    def run(self, paths: list[Path]) -> Summary:
        """Process every path; images are batched CHUNK at a time, videos frame by frame with tracking."""
        with tqdm(total=len(paths), unit="file", disable=not self.progress, file=sys.stderr) as bar:
            pending: list[Path] = []

            def flush_images():
                if pending:
                    self._images(pending)
                    bar.update(len(pending))
                    pending.clear()

            for path in paths:
                if path.suffix.lower() in VIDEO_EXTENSIONS:
                    flush_images()
                    self._video(path, bar)
                    bar.update(1)
                    continue
                pending.append(path)
                if len(pending) == CHUNK:
                    flush_images()
            flush_images()
        return self.summary
