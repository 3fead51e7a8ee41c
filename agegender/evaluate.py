"""Evaluation: run the model over a labelled image set and compute its metrics."""

import sys

import numpy as np

from . import __version__
from .dataset import ImageError, load_chip, read_labels
from .imageio import read_image
from .metrics import compute_metrics
from .model import AgeGenderModel
from .paths import MODEL_SPEC


def _chips_as_given(faces, model):
    """Each image is already an aligned chip: resize it to the model's input."""
    chips, kept, failed = [], [], []
    for i, path in enumerate(faces.paths):
        try:
            chips.append(load_chip(path, model.input_size))
            kept.append(i)
        except ImageError as exc:
            failed.append(str(exc))
    return chips, kept, failed, 0


def _chips_from_photos(faces, estimator):
    """Detect faces in each photo and align the largest one, as the full pipeline does."""
    chips, kept, failed, undetected = [], [], [], 0
    for i, path in enumerate(faces.paths):
        try:
            image = read_image(path)
        except ImageError as exc:
            failed.append(str(exc))
            continue
        found = estimator.detect(image)
        if not len(found):
            undetected += 1
            continue
        largest = found[[int(np.argmax(found.widths))]]
        chips.append(estimator.align(image, largest)[0])
        kept.append(i)
    return chips, kept, failed, undetected


def evaluate(labels, root=None, split=None, chips: bool = True, spec=MODEL_SPEC, flip: bool | None = None) -> dict:
    """Metrics of the model on a labelled CSV.

    `chips`: the images are aligned face chips (UTKFace). Otherwise each is a photo run through
    detect + align, scoring its largest face, and `detected_fraction` is added. `flip` None serves the
    model as its spec says.
    """
    faces = read_labels(labels, root, split)
    if chips:
        model = AgeGenderModel(spec)
        images, kept, failed, undetected = _chips_as_given(faces, model)
    else:
        from .estimator import Estimator

        estimator = Estimator(spec)
        model = estimator.model
        images, kept, failed, undetected = _chips_from_photos(faces, estimator)
    for message in failed:
        print(f"skipped: {message}", file=sys.stderr)
    if not kept:
        raise ImageError(f"{labels}: no face could be scored in the {len(faces)} images")
    readable = len(faces) - len(failed)
    faces = faces.subset(kept)
    out = model.predict(np.stack(images), flip=flip)
    extra = {} if chips else {"detected_fraction": float(len(kept) / readable), "undetected": undetected}
    return {
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
