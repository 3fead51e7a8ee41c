"""Tracking faces across video frames and smoothing their estimates over time."""

from dataclasses import dataclass

import numpy as np

from .combiner import ModelOutput
from .detect import Detections

_SMOOTHED = ("age", "age_std", "age_low", "age_high", "p_female")


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in a [N, 4] with every box in b [M, 4] (x1, y1, x2, y2)."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


@dataclass
class _Track:
    track_id: int
    box: np.ndarray
    state: dict
    female: bool
    hits: int = 1
    missed: int = 0


class FaceTracker:
    """Greedy IoU tracker with exponential smoothing of each track's age and gender.

    A track's estimates are the running mean of its first `1/alpha` frames, then an exponential
    moving average with weight `alpha`. Its gender changes only when the smoothed P(female) crosses
    0.5 by more than `hysteresis`, so an uncertain face does not flicker. A track unseen for
    `max_missed` updates is dropped. Given each frame's size, tracks follow a stream whose resolution changes
    (WebRTC lowers it under load): their boxes are rescaled to the new size before matching.
    """

    def __init__(self, iou_threshold: float = 0.3, alpha: float = 0.1, max_missed: int = 15, hysteresis: float = 0.1):
        self.iou_threshold = iou_threshold
        self.alpha = alpha
        self.max_missed = max_missed
        self.hysteresis = hysteresis
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._size: tuple[float, float] | None = None

    def reset(self) -> None:
        self._tracks, self._next_id, self._size = [], 1, None

    def _resize(self, size) -> None:
        """Rescale the tracks' boxes from the last frame's size to this one's (width, height)."""
        size = (float(size[0]), float(size[1]))
        if self._size is not None and size != self._size:
            factor = np.array([size[0] / self._size[0], size[1] / self._size[1]] * 2)
            for track in self._tracks:
                track.box = track.box * factor
        self._size = size

    def _match(self, boxes: np.ndarray) -> dict[int, int]:
        if not self._tracks or not len(boxes):
            return {}
        iou = iou_matrix(np.stack([t.box for t in self._tracks]), boxes)
        pairs = {}
        for flat in np.argsort(-iou, axis=None):
            t, d = divmod(int(flat), iou.shape[1])
            if iou[t, d] < self.iou_threshold:
                break
            if t not in pairs and d not in pairs.values():
                pairs[t] = d
        return pairs

    def update(self, found: Detections, out: ModelOutput, size=None) -> tuple[ModelOutput, np.ndarray, np.ndarray]:
        """Smoothed estimates, track ids and gender to show (True = female) of this frame's faces (as `found`).

        `size` is the frame's (width, height) in the pixels of `found`'s boxes, if known.
        """
        if size is not None:
            self._resize(size)
        current = {name: np.asarray(getattr(out, name), np.float64) for name in _SMOOTHED}
        pairs = self._match(found.boxes)
        ids = np.zeros(len(found), dtype=int)
        female = current["p_female"] >= 0.5
        smoothed = {name: values.copy() for name, values in current.items()}
        matched = set(pairs.values())
        for t, track in enumerate(self._tracks):
            if t not in pairs:
                track.missed += 1
                continue
            d = pairs[t]
            track.hits += 1
            track.missed = 0
            track.box = found.boxes[d].astype(np.float64)
            weight = max(self.alpha, 1.0 / track.hits)
            for name in _SMOOTHED:
                track.state[name] += weight * (current[name][d] - track.state[name])
                smoothed[name][d] = track.state[name]
            if abs(track.state["p_female"] - 0.5) > self.hysteresis:
                track.female = bool(track.state["p_female"] > 0.5)
            ids[d] = track.track_id
            female[d] = track.female
        for d in range(len(found)):
            if d not in matched:
                state = {name: float(current[name][d]) for name in _SMOOTHED}
                self._tracks.append(_Track(self._next_id, found.boxes[d].astype(np.float64), state, bool(female[d])))
                ids[d] = self._next_id
                self._next_id += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        return ModelOutput(**smoothed), ids, female
