"""The Video page's job: a whole uploaded video analysed in memory, with its people, thumbnails and annotated copy."""

import io
from dataclasses import dataclass, field

import numpy as np

from ..inference.people import Person
from ..inference.render import annotate
from ..inference.results import ImageResult
from ..inference.video import VideoInfo, VideoWriter
from .batch import VideoJob
from .ui import face_crops


@dataclass
class VideoAnalysis:
    """Everything the page shows for one video: per-frame results, people, thumbnails and the annotated MP4."""

    name: str
    info: VideoInfo
    every: int
    results: list[ImageResult] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    thumbnails: dict[int, np.ndarray] = field(default_factory=dict)
    video: bytes = b""

    def seconds(self, frame: int) -> float:
        return frame / self.info.fps


def analyse_video(estimator, data: bytes, name: str, every: int = 1, progress=None) -> VideoAnalysis:
    """Analyse every `every`-th frame of a video held in memory (the command line's VideoJob); `progress(fraction)`
    is called as it goes.

    Raises VideoError for a video that cannot be read.
    """
    job = VideoJob(estimator, data, name, every)
    results, thumbnails, widths = [], {}, {}
    buffer, writer = io.BytesIO(), None

    def on_frame(frame, result):
        nonlocal writer
        if writer is None:
            writer = VideoWriter(buffer, job.info.fps / every)
        results.append(result)
        writer.write(annotate(frame, result.faces))
        for face, crop in zip(result.faces, face_crops(frame, result.faces, 1.0), strict=True):
            if face.width > widths.get(face.track_id, 0):
                widths[face.track_id], thumbnails[face.track_id] = face.width, crop
        if progress and job.info.frames:
            progress(min(1.0, (result.frame + 1) / job.info.frames))

    try:
        for _ in job.results(on_frame):
            pass
    finally:
        if writer is not None:
            writer.close()
    if job.error:
        raise job.error
    return VideoAnalysis(name, job.info, every, results, job.persons, thumbnails, buffer.getvalue())
