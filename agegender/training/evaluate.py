"""Evaluation: run the served model over a labelled image set, clean or degraded, and compute its metrics."""

import logging

import numpy as np

from .. import __version__
from ..inference.decode import ImageError
from ..inference.estimator import Estimator
from ..inference.spec import flipped
from ..paths import MODEL_SPEC
from .dataset import read_labels
from .metrics import compute_metrics, head_yaw, robustness_metrics
from .network_outputs import combined, network_outputs

log = logging.getLogger(__name__)


def evaluate(labels, root=None, split=None, chips: bool = True, spec=MODEL_SPEC, flip: bool | None = None,
             degradations=(), serving: str | None = None) -> dict:
    """Metrics of the model (one of its servings) on a labelled CSV.

    `chips`: the images are aligned face chips (UTKFace; landmarks found on each clean chip crop it for every
    network). Otherwise each is a photo run through detection, scoring its labelled face, and `detected_fraction`
    is added. `flip` None serves the model as its spec says. `degradations` (chips only): names from
    `degrade.SUITE`; each adds its compact metrics under "degraded".
    """
    if degradations and not chips:
        raise ValueError("degradations apply to aligned chips (--chips) only")
    faces = read_labels(labels, root, split)
    estimator = Estimator(spec, serving=serving)
    flip = estimator.flip if flip is None else flipped(estimator.spec.networks, flip)
    mirror = bool(flip) or "second_look" in estimator.combiner.params
    outputs = network_outputs(faces, estimator.networks, "chips" if chips else "photos",
                              ("none", *[d for d in degradations if d != "none"]), mirror=mirror, estimator=estimator)
    kept = outputs["index"]
    if not len(kept):
        raise ImageError(str(labels), f"no face could be scored in the {len(faces)} images")
    readable = len(faces) - len(outputs["unreadable"])
    scored = faces.subset(kept)
    combiner = estimator.combiner
    extra = {} if chips else {"detected_fraction": float(len(kept) / readable),
                              "undetected": int(outputs["undetected"])}
    result = {
        "data": str(labels),
        "split": str(split) if split else None,
        "mode": "chips" if chips else "photos",
        "flip_tta": sorted(flip),
        "model_version": estimator.version,
        "package_version": __version__,
        "unreadable": len(outputs["unreadable"]),
        **extra,
        **compute_metrics(scored.ages, scored.genders, scored.races, combined(outputs, combiner, "none", flip)),
    }
    if degradations:
        yaw = np.array([head_yaw(points) for points in outputs["landmarks"]])
        result["degraded"] = {
            name: robustness_metrics(scored.ages, scored.genders, combined(outputs, combiner, name, flip), yaw)
            for name in degradations
        }
    return result
