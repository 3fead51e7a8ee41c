"""Typed results, built in one place: one `Face` per detected face, one `ImageResult` per image, page or frame."""

from dataclasses import dataclass, field

import numpy as np

from .combiner import ModelOutput
from .detect import Detections
from .groups import age_group

GENDER_LABELS = ("male", "female")
UNKNOWN = "unknown"  # the gender of a face the model does not tell
STATUSES = ("ok", "no_face", "error")


@dataclass
class Face:
    """One face: where it is, how sure the detector was, and the age and gender estimates; in a video, its track
    and, where it was computed, its descriptor (not part of the rows)."""

    box: tuple[float, float, float, float]
    landmarks: list[tuple[float, float]]
    detector_score: float
    age: float
    age_std: float
    age_low: float
    age_high: float
    age_group: str
    gender: str
    gender_probability: float
    track_id: int | None = None
    descriptor: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    def label(self) -> str:
        """Short caption: `34 ± 4 · female 97%` (`34 ± 4 · gender unknown` where the model does not tell)."""
        gender = "gender unknown" if self.gender == UNKNOWN else f"{self.gender} {self.gender_probability:.0%}"
        return f"{self.age:.0f} ± {self.age_std:.0f} · {gender}"

    def to_dict(self) -> dict:
        row = {name: getattr(self, name) for name in FACE_FIELDS}
        row["box"] = [round(v, 1) for v in self.box]
        row["landmarks"] = [[round(x, 1), round(y, 1)] for x, y in self.landmarks]
        for key in ("detector_score", "gender_probability"):
            row[key] = round(row[key], 4)
        for key in ("age", "age_std", "age_low", "age_high"):
            row[key] = round(row[key], 1)
        return row


FACE_FIELDS = tuple(name for name in Face.__dataclass_fields__ if name != "descriptor")


@dataclass
class ImageResult:
    """All faces of one image, page or video frame, with where it came from; `error` says why it has none."""

    source: str
    width: int
    height: int
    faces: list[Face] = field(default_factory=list)
    frame: int | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        """`ok` (faces found), `no_face`, or `error` (the input could not be read; see `error`)."""
        return "error" if self.error else ("ok" if self.faces else "no_face")

    def filtered(self, min_score: float = 0.0, min_width: float = 0.0) -> "ImageResult":
        """The same result keeping only faces scoring at least `min_score` and at least `min_width` pixels wide."""
        kept = [f for f in self.faces if f.detector_score >= min_score and f.width >= min_width]
        return ImageResult(self.source, self.width, self.height, kept, self.frame, self.error)

    def renamed(self, source: str) -> "ImageResult":
        """The same result under another source name (the same content given again under another name)."""
        return ImageResult(source, self.width, self.height, self.faces, self.frame, self.error)

    def rows(self) -> list[dict]:
        """One flat dict per face, or one row with empty face fields saying why there is none."""
        base = {
            "file": self.source,
            "frame": self.frame,
            "status": self.status,
            "error": self.error,
            "image_width": self.width,
            "image_height": self.height,
        }
        if not self.faces:
            return [{**base, "face": None, **dict.fromkeys(FACE_FIELDS)}]
        return [{**base, "face": number, **face.to_dict()} for number, face in numbered(self.faces)]


def numbered(faces: list[Face]) -> list[tuple[int, Face]]:
    """Faces with their numbers 1, 2, ... in the order given (left to right): the one face numbering of the
    annotated images, the pages' tables, the CSV and JSON downloads and the command line's rows."""
    return list(enumerate(faces, start=1))


def failed(source: str, message: str, frame: int | None = None) -> ImageResult:
    """The result of an input that could not be read."""
    return ImageResult(source, 0, 0, [], frame, error=message)


def no_face(source: str, size: tuple[int, int], frame: int | None = None) -> ImageResult:
    """The result of an input read without finding a face (a video's, when no frame had one)."""
    return ImageResult(source, int(size[0]), int(size[1]), [], frame)


def build(source: str, size: tuple[int, int], scale: float, found: Detections, out: ModelOutput, frame=None):
    """The result for one image from its detections and the model's rows for them (same order).

    Faces are numbered left to right; boxes and landmarks found on a copy decoded at `scale` are given in the
    original image's pixels. Columns a tracker added (`FaceTracker.update`: `track_id`, `female` the gender to
    show, `descriptor`) give each face its track, gender and descriptor; otherwise gender is P(female) >= 0.5. A
    gender the model does not tell (`out.gender_known`) is "unknown". The probability given is always that of the
    likelier gender (the one shown, when one is).
    """
    order = np.argsort(found.boxes[:, 0], kind="stable")
    found, out = found[order], out[order]
    track_ids = out.data.get("track_id", [None] * len(found))
    female = out.data.get("female", out.p_female >= 0.5)
    descriptors = out.data.get("descriptor", np.full((len(found), 1), np.nan))
    faces = []
    for i in range(len(found)):
        p_female = float(out.p_female[i])
        faces.append(
            Face(
                box=tuple(float(v) / scale for v in found.boxes[i]),
                landmarks=[(float(x) / scale, float(y) / scale) for x, y in found.landmarks[i]],
                detector_score=float(found.scores[i]),
                age=float(out.age[i]),
                age_std=float(out.age_std[i]),
                age_low=float(out.age_low[i]),
                age_high=float(out.age_high[i]),
                age_group=age_group(out.age[i]),
                gender=GENDER_LABELS[int(female[i])] if out.gender_known[i] else UNKNOWN,
                gender_probability=p_female if female[i] else 1.0 - p_female,
                track_id=None if track_ids[i] is None else int(track_ids[i]),
                descriptor=None if np.isnan(descriptors[i, 0]) else descriptors[i].astype(np.float32),
            )
        )
    return ImageResult(source, int(size[0]), int(size[1]), faces, frame)
