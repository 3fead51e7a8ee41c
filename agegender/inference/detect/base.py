"""What every face detector shares: columnar `Detections`, the registry, and the onnxruntime backbone."""

from dataclasses import dataclass

import cv2
import numpy as np

from ...paths import MODELS
from ..onnx import session

DETECTORS: dict[str, type["Detector"]] = {}


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

    @property
    def chip_template(self) -> np.ndarray:
        """Where the detector that found these faces puts the 5 landmarks on a 200x200 UTKFace chip."""
        return DETECTORS[self.detector].chip_template


class Detector:
    """A face detector: subclasses with a `name` register themselves, so a new detector is one module.

    Each has its own `default_threshold` (its operating point on widerface_dev) and, if it gives
    landmarks of its own, its `chip_template`: the mean landmark positions it finds on UTKFace's aligned
    200x200 chips (measured by bench/chip_template.py), which alignment maps faces onto. It is constructed
    with the keywords `score_threshold`, `max_side` and `threads`.
    """

    name: str = ""
    default_threshold: float
    chip_template: np.ndarray | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            DETECTORS[cls.name] = cls

    def detect(self, image: np.ndarray) -> Detections:
        """Faces in an RGB uint8 image, in its pixels, best first."""
        raise NotImplementedError

    @property
    def key(self) -> str:
        """The settings its detections depend on, in a name for what is cached from them."""
        return f"{self.name}-{self.max_side}-{self.score_threshold:g}"


def fit_scale(shape, max_side: int | None) -> float:
    """The factor that brings an image of `shape` down to at most `max_side` pixels (1 if it fits, or None)."""
    return min(1.0, max_side / max(shape[:2])) if max_side else 1.0


def blob(image: np.ndarray, max_side: int | None, mean=(0.0, 0.0, 0.0), bgr: bool = False) -> tuple[np.ndarray, float]:
    """An RGB image as a [1, 3, H, W] float32 network input, and the scale it was resized by.

    Downscaled to at most `max_side` pixels, channels in BGR order if `bgr`, minus `mean` (in the
    network's channel order), zero-padded at the bottom and right to multiples of 32.
    """
    h, w = image.shape[:2]
    scale = fit_scale(image.shape, max_side)
    if scale < 1:
        # Area averaging only under half size, where bilinear would alias: it costs about 5 times as much.
        method = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
        image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=method)
    sh, sw = image.shape[:2]
    out = np.zeros((1, 3, -(-sh // 32) * 32, -(-sw // 32) * 32), np.float32)
    for channel, source in enumerate((2, 1, 0) if bgr else (0, 1, 2)):
        plane = out[0, channel, :sh, :sw]
        plane[...] = image[:, :, source]
        plane -= mean[channel]
    return out, scale


class OnnxDetector(Detector):
    """A detector network on onnxruntime, with the settings and non-maximum suppression they share.

    Images larger than `max_side` are downscaled for detection (None: never); boxes and landmarks are
    always in the input image's pixels. `threads` 0 uses one per core.
    """

    nms_default = 0.4
    model_file: str

    def __init__(
        self,
        score_threshold: float | None = None,
        nms_threshold: float | None = None,
        max_side: int | None = 4096,
        model_path=None,
        threads: int = 0,
    ):
        self.score_threshold = self.default_threshold if score_threshold is None else score_threshold
        self.nms_threshold = self.nms_default if nms_threshold is None else nms_threshold
        self.max_side = max_side
        self.session = session(model_path or MODELS / self.model_file, threads=threads)
        self._input = self.session.get_inputs()[0].name

    def run(self, net_input: np.ndarray) -> list[np.ndarray]:
        return [o[0] for o in self.session.run(None, {self._input: net_input})]

    def suppressed(self, xywh, scores, landmarks, scale: float, image_size) -> Detections:
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
