"""Video: reading frames, and analysing them with face tracking and temporal smoothing."""

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from .estimator import Estimator, make_faces
from .results import ImageResult
from .tracking import FaceTracker

VIDEO_EXTENSIONS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".y4m", ".mjpeg"}


class VideoError(ValueError):
    """A video that cannot be opened or decoded."""


def open_video(path) -> tuple[cv2.VideoCapture, float, int]:
    """An opened capture, its frame rate and frame count; VideoError if it cannot be decoded."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise VideoError(f"{path}: not a readable video (corrupt, truncated or unsupported)")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    return capture, fps, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))


def read_frames(path, every: int = 1, max_frames: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(frame index, RGB frame) for every `every`-th frame; VideoError if not even the first frame decodes."""
    capture, _, _ = open_video(path)
    index = yielded = 0
    try:
        while max_frames is None or yielded < max_frames:
            if not capture.grab():
                break
            if index % every == 0:
                ok, frame = capture.retrieve()
                if not ok:
                    break
                yield index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                yielded += 1
            index += 1
    finally:
        capture.release()
    if yielded == 0:
        raise VideoError(f"{path}: no frame could be decoded (corrupt or truncated video)")


class VideoAnalyzer:
    """Runs an Estimator over consecutive frames, keeping face ids and smoothing their estimates."""

    def __init__(self, estimator: Estimator, tracker: FaceTracker | None = None):
        self.estimator = estimator
        self.tracker = tracker or FaceTracker()

    def process(self, frames: list[np.ndarray], indices: list[int], source: str = "") -> list[ImageResult]:
        """Results for consecutive RGB frames; all their faces go through the model as one batch."""
        results = []
        for frame, index, (found, out) in zip(frames, indices, self.estimator.analyze_arrays(frames), strict=True):
            faces = make_faces(found, *self.tracker.update(found, out))
            results.append(ImageResult(source, frame.shape[1], frame.shape[0], faces, frame=index))
        return results
