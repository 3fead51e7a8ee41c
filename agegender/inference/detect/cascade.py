"""The default detector for photos: RetinaFace first, CenterFace where RetinaFace falls short."""

import numpy as np

from .base import Detections, Detector, fit_scale
from .centerface import CenterFace
from .retinaface import RetinaFace


class Cascade(Detector):
    """RetinaFace on a copy of at most `FAST_SIDE` pixels, and CenterFace at full resolution when needed.

    RetinaFace runs at its own operating point: the small copy keeps faces inside its anchors (the largest
    is 512 px) and costs the same for any photo size. If it finds no face, or any face narrower than `SMALL`
    pixels there, the image goes to CenterFace instead, whose detections are returned down to
    `score_threshold`. On widerface_dev the two find faces of 48 px and more equally often; under that,
    CenterFace finds more (README, "Face detectors"). The detections say which detector found them.
    """

    name = "auto"
    default_threshold = CenterFace.default_threshold
    SMALL = 48
    FAST_SIDE = 640

    def __init__(self, score_threshold: float | None = None, max_side: int | None = 4096, threads: int = 0):
        self.score_threshold = self.default_threshold if score_threshold is None else score_threshold
        self.max_side = max_side
        fast_side = self.FAST_SIDE if max_side is None else min(max_side, self.FAST_SIDE)
        fast_threshold = max(self.score_threshold, RetinaFace.default_threshold)
        self.fast = RetinaFace(score_threshold=fast_threshold, max_side=fast_side, threads=threads)
        self.thorough = CenterFace(score_threshold=self.score_threshold, max_side=max_side, threads=threads)

    def detect(self, image: np.ndarray) -> Detections:
        found = self.fast.detect(image)
        if len(found) and (found.widths * fit_scale(image.shape, self.fast.max_side) >= self.SMALL).all():
            return found
        return self.thorough.detect(image)
