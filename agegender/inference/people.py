"""People in a video: one summary per track, aggregated over all the frames it was seen in."""

from dataclasses import asdict, dataclass

import numpy as np

from .groups import age_group
from .results import ImageResult


@dataclass
class Person:
    """One tracked face over a video: when it was seen, a robust age and a weighted gender vote.

    Age is the median of its per-frame ages and the interval the medians of their bounds; gender is the
    detector-score-weighted mean of P(female). `best_frame` and `best_box` locate its largest sighting.
    """

    source: str
    track_id: int
    first_frame: int
    last_frame: int
    first_seconds: float
    last_seconds: float
    frames: int
    age: float
    age_low: float
    age_high: float
    age_group: str
    gender: str
    gender_probability: float
    best_frame: int
    best_box: tuple[float, float, float, float]

    def to_dict(self) -> dict:
        row = asdict(self)
        for key in ("age", "age_low", "age_high", "first_seconds", "last_seconds"):
            row[key] = round(row[key], 2)
        row["gender_probability"] = round(row["gender_probability"], 4)
        row["best_box"] = [round(v, 1) for v in self.best_box]
        return row


PERSON_FIELDS = tuple(Person.__dataclass_fields__)


def people(results: list[ImageResult], fps: float) -> list[Person]:
    """One Person per track id in a video's frame results (in order of first appearance)."""
    sightings: dict[int, list] = {}
    for result in results:
        for face in result.faces:
            if face.track_id is not None:
                sightings.setdefault(face.track_id, []).append((result.frame or 0, face, result.source))
    persons = []
    for track_id, seen in sightings.items():
        frames = [frame for frame, _, _ in seen]
        faces = [face for _, face, _ in seen]
        p_female = np.array([f.gender_probability if f.gender == "female" else 1 - f.gender_probability for f in faces])
        weights = np.array([max(f.detector_score, 1e-3) for f in faces])
        vote = float(np.average(p_female, weights=weights))
        age = float(np.median([f.age for f in faces]))
        best = int(np.argmax([f.width for f in faces]))
        persons.append(
            Person(
                source=seen[0][2],
                track_id=track_id,
                first_frame=min(frames),
                last_frame=max(frames),
                first_seconds=min(frames) / fps,
                last_seconds=max(frames) / fps,
                frames=len(faces),
                age=age,
                age_low=min(age, float(np.median([f.age_low for f in faces]))),
                age_high=max(age, float(np.median([f.age_high for f in faces]))),
                age_group=age_group(age),
                gender="female" if vote >= 0.5 else "male",
                gender_probability=vote if vote >= 0.5 else 1 - vote,
                best_frame=frames[best],
                best_box=faces[best].box,
            )
        )
    return sorted(persons, key=lambda p: (p.first_frame, p.track_id))
