"""Evaluation: run the model over a labelled image set and compute its metrics."""

import sys

import numpy as np

from . import __version__
from .dataset import ImageError, load_chip, read_labels
from .metrics import compute_metrics
from .model import AgeGenderModel
from .paths import MODEL_SPEC


def _read_chips(faces, size: int):
    chips, kept, failed = [], [], []
    for i, path in enumerate(faces.paths):
        try:
            chips.append(load_chip(path, size))
            kept.append(i)
        except ImageError as exc:
            failed.append(str(exc))
    return chips, kept, failed


def evaluate(
    labels, root=None, split=None, chips: bool = True, spec=MODEL_SPEC, flip: bool = False, model=None
) -> dict:
    """Metrics of the model on a labelled CSV; `chips` says the images are already aligned face chips."""
    if not chips:
        raise NotImplementedError("whole-photo evaluation needs the face detector; use --chips for aligned chips")
    faces = read_labels(labels, root, split)
    model = model or AgeGenderModel(spec)
    images, kept, failed = _read_chips(faces, model.input_size)
    for message in failed:
        print(f"skipped: {message}", file=sys.stderr)
    if not kept:
        raise ImageError(f"{labels}: none of the {len(faces)} images could be read")
    faces = faces.subset(kept)
    out = model.predict(np.stack(images), flip=flip)
    metrics = compute_metrics(faces.ages, faces.genders, faces.races, out)
    return {
        "data": str(labels),
        "split": str(split) if split else None,
        "mode": "chips",
        "flip_tta": flip,
        "model_version": model.version,
        "package_version": __version__,
        "unreadable": len(failed),
        **metrics,
    }
