"""Typed results: one `Face` per detected face, and the columnar table they come from."""

from dataclasses import asdict, dataclass, field

GENDER_LABELS = ("male", "female")


@dataclass
class Face:
    """One face: where it is, how sure the detector was, and the age and gender estimates."""

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

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    def label(self) -> str:
        """Short caption: `34 ± 4 · female 97%`."""
        return f"{self.age:.0f} ± {self.age_std:.0f} · {self.gender} {self.gender_probability:.0%}"

    def to_dict(self) -> dict:
        row = asdict(self)
        row["box"] = [round(v, 1) for v in self.box]
        row["landmarks"] = [[round(x, 1), round(y, 1)] for x, y in self.landmarks]
        for key in ("detector_score", "gender_probability"):
            row[key] = round(row[key], 4)
        for key in ("age", "age_std", "age_low", "age_high"):
            row[key] = round(row[key], 2)
        return row


@dataclass
class ImageResult:
    """All faces of one image or video frame, with where it came from."""

    source: str
    width: int
    height: int
    faces: list[Face] = field(default_factory=list)
    frame: int | None = None

    def rows(self) -> list[dict]:
        """One flat dict per face, for JSONL/CSV output."""
        base = {"file": self.source, "frame": self.frame, "image_width": self.width, "image_height": self.height}
        return [{**base, "face": i, **face.to_dict()} for i, face in enumerate(self.faces)]
