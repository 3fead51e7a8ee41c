"""Evaluation: run the served model over a labelled image set, clean or degraded, and compute its metrics."""

import sys

import cv2
import numpy as np

from .. import __version__
from ..inference.decode import ImageError, read_image
from ..inference.detect import get_detector
from ..inference.runtime import AgeGenderModel
from ..paths import MODEL_SPEC
from .dataset import read_labels
from .degrade import degrade
from .metrics import compute_metrics, head_yaw, robustness_metrics
from .teachers import chip_landmarks


def _readable(faces, failed: list):
    """(index, RGB image) of each readable image of a face set; the messages of the others go to `failed`."""
    for i, path in enumerate(faces.paths):
        try:
            yield i, read_image(path)
        except ImageError as exc:
            failed.append(str(exc))


def _chips_as_given(faces):
    """Each image is already an aligned 200 px chip; with its landmarks as our detector finds them (for yaw)."""
    detector = get_detector("retinaface", max_side=None)
    chips, kept, failed, yaw = [], [], [], []
    for i, chip in _readable(faces, failed):
        if chip.shape[:2] != (200, 200):
            chip = cv2.resize(chip, (200, 200), interpolation=cv2.INTER_AREA)
        chips.append(chip)
        points = chip_landmarks(chips[-1], detector)
        yaw.append(head_yaw(points) if points is not None else np.nan)
        kept.append(i)
    return chips, kept, failed, 0, yaw


def _chips_from_photos(faces, estimator):
    """Detect faces in each photo and align the largest one, as the full pipeline does."""
    chips, kept, failed, undetected, yaw = [], [], [], 0, []
    for i, image in _readable(faces, failed):
        found = estimator.detect(image)
        if not len(found):
            undetected += 1
            continue
        largest = found[[int(np.argmax(found.widths))]]
        chips.append(estimator.align(image, largest)[0])
        yaw.append(head_yaw(largest.landmarks[0]))
        kept.append(i)
    return chips, kept, failed, undetected, yaw


def _model_input(chips: np.ndarray, size: int) -> np.ndarray:
    if chips.shape[1] == size:
        return chips
    return np.stack([cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA) for c in chips])


def evaluate(
    labels, root=None, split=None, chips: bool = True, spec=MODEL_SPEC, flip: bool | None = None, degradations=()
) -> dict:
    """Metrics of the model on a labelled CSV.

    `chips`: the images are aligned face chips (UTKFace). Otherwise each is a photo run through detect + align,
    scoring its largest face, and `detected_fraction` is added. `flip` None serves the model as its spec says.
    `degradations` (chips only): names from `degrade.SUITE`; each adds its compact metrics under "degraded".
    """
    faces = read_labels(labels, root, split)
    if chips:
        model = AgeGenderModel(spec)
        images, kept, failed, undetected, yaw = _chips_as_given(faces)
    else:
        if degradations:
            raise ValueError("degradations apply to aligned chips (--chips) only")
        from ..inference.estimator import Estimator

        estimator = Estimator(spec)
        model = estimator.model
        images, kept, failed, undetected, yaw = _chips_from_photos(faces, estimator)
    for message in failed:
        print(f"skipped: {message}", file=sys.stderr)
    if not kept:
        raise ImageError(str(labels), f"no face could be scored in the {len(faces)} images")
    readable = len(faces) - len(failed)
    faces, images, yaw = faces.subset(kept), np.stack(images), np.array(yaw)
    out = model.predict(_model_input(images, model.input_size), flip=flip)
    extra = {} if chips else {"detected_fraction": float(len(kept) / readable), "undetected": undetected}
    result = {
        "data": str(labels),
        "split": str(split) if split else None,
        "mode": "chips" if chips else "photos",
        "flip_tta": model.flip if flip is None else flip,
        "model_version": model.version,
        "package_version": __version__,
        "unreadable": len(failed),
        **extra,
        **compute_metrics(faces.ages, faces.genders, faces.races, out),
    }
    if degradations:
        result["degraded"] = {}
        for name in degradations:
            degraded = model.predict(_model_input(degrade(images, name), model.input_size), flip=flip)
            result["degraded"][name] = robustness_metrics(faces.ages, faces.genders, degraded, yaw)
    return result
