"""The Estimator: decode -> detect -> align -> model -> typed results, batched across faces and frames."""

import copy
from functools import lru_cache
from pathlib import Path

import numpy as np

from .align import CHIP_TEMPLATES, align_faces
from .detect import Cascade, Detections, get_detector
from .groups import age_group
from .imageio import read_image
from .model import AgeGenderModel, ModelOutput
from .paths import MODEL_SPEC
from .results import GENDER_LABELS, Face, ImageResult


def make_faces(found: Detections, out: ModelOutput, track_ids=None, female=None) -> list[Face]:
    """Faces from detections and the model's output rows for them (same order).

    Optional per-face track ids, and the gender to show (True = female) where a tracker decided it;
    otherwise gender is P(female) >= 0.5. The probability given is always that of the gender shown.
    """
    faces = []
    for i in range(len(found)):
        p_female = float(out.p_female[i])
        is_female = p_female >= 0.5 if female is None else bool(female[i])
        faces.append(
            Face(
                box=tuple(float(v) for v in found.boxes[i]),
                landmarks=[(float(x), float(y)) for x, y in found.landmarks[i]],
                detector_score=float(found.scores[i]),
                age=float(out.age[i]),
                age_std=float(out.age_std[i]),
                age_low=float(out.age_low[i]),
                age_high=float(out.age_high[i]),
                age_group=age_group(out.age[i]),
                gender=GENDER_LABELS[int(is_female)],
                gender_probability=p_female if is_female else 1.0 - p_female,
                track_id=None if track_ids is None else int(track_ids[i]),
            )
        )
    return faces


class Estimator:
    """Finds every face in an image and estimates its apparent age and gender.

    The model and the detector are loaded once, at construction. `min_face` drops faces narrower
    than that many pixels (the default, 16: smaller detections are often false, and too small to read an
    age from), and `score_threshold` those scoring under it (None: the detector's own operating point);
    `flip` averages each face with its mirror image (None: as the model spec says).
    No detector searches more than `max_side` pixels (larger photos are downscaled for detection only);
    auto first looks at a 640 px copy. `with_options` gives a copy with other settings sharing the models.
    """

    DETECTOR_FLOOR = 0.3
    MIN_FACE = 16.0

    def __init__(
        self,
        model_spec=MODEL_SPEC,
        detector: str = Cascade.name,
        score_threshold: float | None = None,
        min_face: float = MIN_FACE,
        flip: bool | None = None,
        max_side: int | None = 4096,
    ):
        self.model = AgeGenderModel(model_spec)
        floor = self.DETECTOR_FLOOR if score_threshold is None else min(score_threshold, self.DETECTOR_FLOOR)
        self.detector = get_detector(detector, score_threshold=floor, max_side=max_side)
        self.score_threshold = self.detector.default_threshold if score_threshold is None else score_threshold
        self.min_face = min_face
        self.flip = flip

    def with_options(
        self,
        score_threshold: float | None = None,
        min_face: float | None = None,
        flip: bool | None = None,
        detector: str | None = None,
    ) -> "Estimator":
        """A copy with other filtering, flip or detector settings, sharing this one's model.

        Another `detector` starts at its own operating point unless `score_threshold` is given.
        """
        other = copy.copy(self)
        if detector is not None and detector != self.detector.name:
            other.detector = get_detector(
                detector, score_threshold=self.detector.score_threshold, max_side=self.detector.max_side
            )
            other.score_threshold = other.detector.default_threshold
        if score_threshold is not None:
            if score_threshold < other.detector.score_threshold:
                raise ValueError(f"score_threshold must be at least {other.detector.score_threshold}")
            other.score_threshold = score_threshold
        if min_face is not None:
            other.min_face = min_face
        if flip is not None:
            other.flip = flip
        return other

    def detect(self, image: np.ndarray) -> Detections:
        """Faces in an RGB image that pass the score and size filters."""
        found = self.detector.detect(image)
        return found[(found.scores >= self.score_threshold) & (found.widths >= self.min_face)]

    def align(self, image: np.ndarray, found: Detections) -> np.ndarray:
        """Model-input chips of the detected faces, in the model's own chip geometry."""
        template = CHIP_TEMPLATES[found.detector]
        return align_faces(image, found.landmarks, self.model.input_size, template, self.model.chip_size)

    def analyze_arrays(self, images: list[np.ndarray]) -> list[tuple[Detections, ModelOutput]]:
        """Detections and model outputs for RGB frames; all their faces go through the model as one batch."""
        found = [self.detect(image) for image in images]
        chips = [self.align(image, f) for image, f in zip(images, found, strict=True)]
        out = self.model.predict(np.concatenate(chips), flip=self.flip)
        bounds = np.cumsum([0] + [len(f) for f in found])
        return [(f, out[a:b]) for f, a, b in zip(found, bounds[:-1], bounds[1:], strict=True)]

    def analyze(self, image, bgr: bool = False) -> list[Face]:
        """Faces in one image: a path, bytes, file object, PIL image or array (RGB, or BGR with `bgr`)."""
        return self.analyze_batch([image], bgr=bgr)[0].faces

    def analyze_batch(self, images, bgr: bool = False, sources=None) -> list[ImageResult]:
        """Results for several images or frames, with one model call for all of their faces."""
        arrays = [read_image(image, bgr=bgr) for image in images]
        sources = sources or [str(image) if isinstance(image, str | Path) else "" for image in images]
        return [
            ImageResult(str(src), arr.shape[1], arr.shape[0], make_faces(found, out))
            for src, arr, (found, out) in zip(sources, arrays, self.analyze_arrays(arrays), strict=True)
        ]


@lru_cache(maxsize=1)
def default_estimator() -> Estimator:
    return Estimator()


def analyze(image, bgr: bool = False) -> list[Face]:
    """One-line facade: the faces in an image, with the shipped model and the default detector."""
    return default_estimator().analyze(image, bgr=bgr)
