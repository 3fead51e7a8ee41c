"""The Video page's job: a whole uploaded video analysed in memory (the command line's VideoJob), with its people,
their thumbnails, the scene cuts and the annotated copy."""

import io
from dataclasses import dataclass, field

import numpy as np

from ..inference.people import Person
from ..inference.results import ImageResult
from ..inference.tracking import SAME_PERSON
from ..inference.video import VideoInfo
from .batch import VideoJob
from .ui import face_crops


@dataclass
class VideoAnalysis:
    """Everything the page shows for one video: per-frame results, people (with a thumbnail each, by person
    number), the frames that began a new scene and the annotated MP4."""

    name: str
    info: VideoInfo
    every: int
    results: list[ImageResult] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    thumbnails: dict[int, np.ndarray] = field(default_factory=dict)
    cuts: list[int] = field(default_factory=list)
    video: bytes = b""

    def seconds(self, frame: int) -> float:
        return frame / self.info.fps

    def person_of(self) -> dict[int, int]:
        """Each track's person number."""
        return {track: p.person for p in self.persons for track in p.tracks}


def analyse_video(estimator, data: bytes, name: str, every: int = 1, progress=None,
                  same_person: float = SAME_PERSON) -> VideoAnalysis:
    """Analyse every `every`-th frame of a video held in memory; `progress(fraction)` is called as it goes.

    Raises VideoError for a video that cannot be read.
    """
    buffer = io.BytesIO()
    job = VideoJob(estimator, data, name, every, annotated=buffer, same_person=same_person)
    results, crops, widths = [], {}, {}

    def on_frame(frame, result):
        results.append(result)
        for face, crop in zip(result.faces, face_crops(frame, result.faces, 1.0), strict=True):
            if face.width > widths.get(face.track_id, 0):
                widths[face.track_id], crops[face.track_id] = face.width, crop
        if progress and job.info.frames:
            progress(min(1.0, (result.frame + 1) / job.info.frames))

    for _ in job.results(on_frame):
        pass
    if job.error:
        raise job.error
    thumbnails = {p.person: crops[max(p.tracks, key=lambda t: widths[t])] for p in job.persons}
    return VideoAnalysis(name, job.info, every, results, job.persons, thumbnails, job.cuts, buffer.getvalue())
