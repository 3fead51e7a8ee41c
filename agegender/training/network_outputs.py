"""Every network's raw outputs for the main face of each image of a labelled set, clean or degraded: what the
combiner is fitted on, and what the scorecard and the distillation targets are computed from.

Two ways to find the face. `photos`: the image goes through the Estimator's detector and its largest face is kept,
as the whole pipeline does. `chips`: the image is an aligned 200 px chip (UTKFace); RetinaFace finds its landmarks
on the clean chip padded by `PAD` pixels, and every degraded copy is cropped by those same landmarks, so a
degradation measures the networks, not the detector.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from ..inference.decode import ImageError, read_image
from ..inference.detect import Detections, get_detector
from ..inference.networks import concat_crops
from .degrade import SUITE

PAD = 60  # UTKFace chips are padded before detection, so the face is not cut off
log = logging.getLogger(__name__)


def _pad(chip: np.ndarray) -> np.ndarray:
    return cv2.copyMakeBorder(chip, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)


def chip_landmarks(chip: np.ndarray, detector) -> np.ndarray | None:
    """Our detector's 5 landmarks of the main face on an aligned chip, or None if it finds none."""
    found = detector.detect(_pad(chip))
    return found.landmarks[0] - PAD if len(found) else None


def _main_face(found: Detections) -> Detections:
    return found[[int(np.argmax(found.widths))]]


def _located(faces, mode: str, estimator=None):
    """(index, image, detections of its main face) for each image where a face is found; the others are logged."""
    detector = get_detector("retinaface", max_side=None) if mode == "chips" else None

    def one(i):
        try:
            image = read_image(faces.paths[i])
        except ImageError as exc:
            log.warning("skipped: %s", exc)
            return None
        if mode == "chips":
            if image.shape[:2] != (200, 200):
                image = cv2.resize(image, (200, 200), interpolation=cv2.INTER_AREA)
            found = detector.detect(_pad(image))
            if not len(found):
                return None
            f = _main_face(found)
            return i, image, Detections(f.boxes - PAD, f.scores, f.landmarks - PAD, f.detector)
        found = estimator.detect(image)
        return (i, image, _main_face(found)) if len(found) else None

    with ThreadPoolExecutor(2) as pool:
        return [item for item in pool.map(one, range(len(faces))) if item is not None]


def network_outputs(faces, networks: dict, mode: str = "photos", degradations=("none",), mirror: bool = True,
                    estimator=None, batch: int = 256) -> dict[str, np.ndarray]:
    """Columns for the main face of each image where one is found.

    Keys: `index` (row in `faces`), `width` (face width in pixels), `landmarks` [N, 5, 2], and for each
    degradation `d` and network `n`, `d/n/<column>` (e.g. `none/cc0/age` [N, 101], `none/cc0/p_female` [N]), and
    with `mirror` the same for the mirror images under `d/n/mirror/<column>` (flip test-time augmentation
    averages the two).
    `networks` maps names to `Network`s; `estimator` finds faces in `photos` mode.
    """
    if mode not in ("photos", "chips"):
        raise ValueError(f"mode must be 'photos' or 'chips', not {mode!r}")
    if mode == "photos" and degradations != ("none",):
        raise ValueError("degradations apply to aligned chips (mode 'chips') only")
    located = _located(faces, mode, estimator)
    found = [f for _, _, f in located]
    out = {
        "index": np.array([i for i, _, _ in located], int),
        "width": np.array([float(f.widths[0]) for f in found]),
        "landmarks": np.array([f.landmarks[0] for f in found]).reshape(-1, 5, 2),
    }
    for name in degradations:
        columns: dict[str, list] = {}
        for start in range(0, len(located), batch):
            part = located[start : start + batch]
            images = [SUITE[name](image, np.random.default_rng(i)) for i, image, _ in part]
            if mode == "chips":
                images = [_pad(image) for image in images]
                shifted = [Detections(f.boxes + PAD, f.scores, f.landmarks + PAD, f.detector) for _, _, f in part]
            else:
                shifted = [f for _, _, f in part]
            for net_name, net in networks.items():
                crops = concat_crops([net.crop(image, f) for image, f in zip(images, shifted, strict=True)])
                for key, value in net.predict(crops).items():
                    columns.setdefault(f"{name}/{net_name}/{key}", []).append(value)
                if mirror:
                    for key, value in net.predict({k: v[:, :, ::-1] for k, v in crops.items()}).items():
                        columns.setdefault(f"{name}/{net_name}/mirror/{key}", []).append(value)
        out.update({key: np.concatenate(parts) for key, parts in columns.items()})
    return out
