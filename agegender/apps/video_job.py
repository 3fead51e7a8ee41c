"""The Video page's job: a whole uploaded video analysed in memory, with its people, thumbnails and annotated copy."""

import io
from dataclasses import dataclass, field

import numpy as np

from ..inference.people import Person, people
from ..inference.render import annotate
from ..inference.results import ImageResult
from ..inference.video import VideoAnalyzer, VideoInfo, VideoWriter, video_info
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
    """Analyse every `every`-th frame of a video held in memory; `progress(fraction)` is called as it goes.

    Raises VideoError for a video that cannot be read.
    """
    info = video_info(data, name)
    job = VideoAnalysis(name, info, every)
    sizes: dict[int, float] = {}
    buffer = io.BytesIO()
    with VideoWriter(buffer, info.fps / every) as writer:
        for frame, result in VideoAnalyzer(estimator).run(data, name, every):
            job.results.append(result)
            writer.write(annotate(frame, result.faces))
            for face, crop in zip(result.faces, face_crops(frame, result.faces, 1.0), strict=True):
                if face.width > sizes.get(face.track_id, 0):
                    sizes[face.track_id], job.thumbnails[face.track_id] = face.width, crop
            if progress and info.frames:
                progress(min(1.0, (result.frame + 1) / info.frames))
    job.video = buffer.getvalue()
    job.persons = people(job.results, info.fps)
    return job
