"""What the tracker sees of each frame before the networks run: scene cuts, and the faces it needs descriptors of.

Both are cheap (thumbnails, histograms and 16x16 patches); the descriptor network then runs once for the faces
of a whole model batch.
"""

from dataclasses import dataclass, field

import cv2
import numpy as np

from .detect import Detections


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in a [N, 4] with every box in b [M, 4] (x1, y1, x2, y2)."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


class SceneCuts:
    """A cut between consecutive frames: their 32x24 grey thumbnails differ by more than `difference` on average
    (0-1 scale) and their colours (HSV histograms of 64x48 copies) by more than `colours` (Bhattacharyya distance).
    A moving camera, a turning head or someone walking by changes one of them at a time, a cut both
    (bench/video_people.py's clips: cuts between two people filmed alike differ by at least 0.067 and 0.25)."""

    def __init__(self, difference: float = 0.05, colours: float = 0.24):
        self.difference, self.colours = difference, colours
        self._last: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, image: np.ndarray) -> bool:
        step = max(1, min(image.shape[0] // 96, image.shape[1] // 128))  # every few pixels, then averaged
        small = cv2.resize(image[::step, ::step], (64, 48), interpolation=cv2.INTER_AREA)
        thumb = cv2.resize(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (32, 24), interpolation=cv2.INTER_AREA)
        hist = cv2.calcHist([cv2.cvtColor(small, cv2.COLOR_RGB2HSV)], [0, 1, 2], None, [8, 4, 4],
                            [0, 180, 0, 256, 0, 256])
        now, last = (thumb.astype(np.float32) / 255, cv2.normalize(hist, hist).ravel()), self._last
        self._last = now
        if last is None or float(np.abs(now[0] - last[0]).mean()) <= self.difference:
            return False
        return cv2.compareHist(now[1], last[1], cv2.HISTCMP_BHATTACHARYYA) > self.colours


@dataclass
class Look:
    """What the tracker makes of a frame before the networks run: a scene cut, which faces it needs descriptors of
    (new or ambiguous ones, and a face due for a check), the frame's (width, height); then the descriptor network's
    crops of those faces and, once it ran, their descriptors."""

    cut: bool
    wanted: np.ndarray
    size: tuple[int, int]
    crops: dict = field(default_factory=dict)
    descriptors: np.ndarray | None = None


def _patch(image: np.ndarray, box: np.ndarray, side: int = 16) -> np.ndarray:
    """A face's box as a side x side grey patch, zero mean and unit spread: what the face looks like, cheaply."""
    h, w = image.shape[:2]
    x1, y1 = min(max(int(box[0]), 0), w - 1), min(max(int(box[1]), 0), h - 1)
    x2, y2 = min(max(int(box[2]) + 1, x1 + 1), w), min(max(int(box[3]) + 1, y1 + 1), h)
    step = max(1, min(y2 - y1, x2 - x1) // (2 * side))  # every few pixels, then averaged
    small = cv2.resize(image[y1:y2:step, x1:x2:step], (side, side), interpolation=cv2.INTER_AREA)
    patch = (cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small).astype(np.float32)
    return (patch - patch.mean()) / (patch.std() + 1e-3)


@dataclass
class Watcher:
    """Decides, frame after frame, which faces to describe (see `__call__`), and finds the scene cuts (`cuts`
    lists the frames that began a new scene)."""

    iou_threshold: float = 0.3
    refresh: int = 20
    change: float = 0.3
    min_width: float = 24.0
    cuts: list = field(default_factory=list)

    def __post_init__(self):
        self.scene = SceneCuts()
        self._boxes, self._age, self._patches = np.zeros((0, 4)), np.zeros(0, int), []

    def __call__(self, image: np.ndarray, found: Detections, frame: int | None = None) -> Look:
        """The scene-cut test and the faces to describe, for the next frame (`frame`, its number) in order.

        Only whole faces are described (box and landmarks inside the frame, at least `min_width` pixels wide): a
        face half out of the frame looks like no one. A face is described when it is new or ambiguous (its box
        overlaps more than one box of the frame before, or one that another face overlaps too), has not been yet,
        or looks suddenly different (its 16x16 grey patch, normalised, differs from the one before by more than
        `change` on average); and the face longest undescribed, when that is `refresh` frames.
        """
        cut = self.scene(image)
        if cut and frame is not None:
            self.cuts.append(frame)
        h, w = image.shape[:2]
        boxes = found.boxes / np.array([w, h, w, h], np.float64)
        margin = 0.1 * (found.boxes[:, 3] - found.boxes[:, 1])[:, None, None]
        points, size = found.landmarks, np.array([w, h])
        whole = ((points >= margin) & (points <= size - margin)).all(axis=(1, 2)) & (found.widths >= self.min_width)
        whole &= (found.boxes[:, :2] > 1).all(axis=1) & (found.boxes[:, 2:] < size - 1).all(axis=1)
        patches = [_patch(image, box) for box in found.boxes]
        age = np.full(len(found), -1)  # frames since described; -1: not yet, or to be again
        if not cut and len(self._boxes) and len(boxes):
            links = iou_matrix(self._boxes, boxes) >= self.iou_threshold
            for d in range(len(boxes)):
                before = np.flatnonzero(links[:, d])
                if len(before) == 1 and links[before[0]].sum() == 1 and self._age[before[0]] >= 0:
                    changed = float(np.abs(patches[d] - self._patches[before[0]]).mean()) > self.change
                    age[d] = -1 if changed else self._age[before[0]] + 1
        wanted = whole & (age < 0)
        due = np.where(whole & (age >= self.refresh), age, -1)
        if due.max(initial=-1) >= 0:
            wanted[int(np.argmax(due))] = True
        age[wanted] = 0
        self._boxes, self._age, self._patches = boxes, age, patches
        return Look(cut, wanted, (w, h))
