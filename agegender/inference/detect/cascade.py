"""The default detector for photos: RetinaFace first, CenterFace where RetinaFace falls short."""

import numpy as np

from .base import Detections, Detector, fit_scale
from .centerface import CenterFace
from .retinaface import RetinaFace


class Cascade(Detector):
    """RetinaFace on a copy of at most `fast_side` pixels, and CenterFace at full resolution when needed.

    RetinaFace runs at its own operating point: the small copy keeps faces inside its anchors (the largest
    is 512 px) and costs the same for any photo size. If it finds no face, or any face narrower than `SMALL`
    pixels at the scale of a copy of at most `SMALL_SIDE` pixels, the image goes to CenterFace instead, whose
    detections are returned down to `score_threshold`. On widerface_dev the two find faces of 48 px and more
    equally often; under that, CenterFace finds more (README, "Face detectors"). The fast copy is smaller than the
    scale that rule was measured at, which the rule keeps: RetinaFace reads a 512 px copy 1.6x as fast as a 640 px
    one. The detections say which detector found them.
    """

    name = "auto"
    default_threshold = CenterFace.default_threshold
    SMALL, SMALL_SIDE = 48, 640
    FAST_SIDE = 512

    def __init__(self, score_threshold: float | None = None, max_side: int | None = 4096, threads: int = 0,
                 fast_side: int = FAST_SIDE):
        self.score_threshold = self.default_threshold if score_threshold is None else score_threshold
        self.max_side = max_side
        fast_side, self.small_side = (side if max_side is None else min(max_side, side)
                                      for side in (fast_side, self.SMALL_SIDE))
        fast_threshold = max(self.score_threshold, RetinaFace.default_threshold)
        self.fast = RetinaFace(score_threshold=fast_threshold, max_side=fast_side, threads=threads)
        self.thorough = CenterFace(score_threshold=self.score_threshold, max_side=max_side, threads=threads)

    def detect(self, image: np.ndarray) -> Detections:
        found = self.fast.detect(image)
        if len(found) and (found.widths * fit_scale(image.shape, self.small_side) >= self.SMALL).all():
            return found
        return self.thorough.detect(image)

    @property
    def key(self) -> str:
        return f"{super().key}-{self.fast.max_side}-{self.SMALL}@{self.small_side}"
