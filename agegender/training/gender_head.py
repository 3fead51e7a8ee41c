"""The descriptor's gender head: a logistic regression of the gender label on the face descriptor (128-d), fitted
on the UTKFace training chips and written into the descriptor's network spec (`models/descriptor.json`).

The descriptor is dlib's face recognition network: it was trained to tell people apart, not their gender, but its
vectors keep much of it, and it errs differently from the age and gender networks (it was trained on other
faces, at another crop), so it is a third opinion for the combiner's gender. Run it as
`python -m agegender.training.gender_head [--data DIR] [--spec models/descriptor.json]`.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from ..inference.networks.descriptor import DESCRIPTOR_SPEC, Descriptor
from ..inference.spec import NetworkSpec
from ..paths import data_root
from .dataset import utkface
from .network_outputs import network_outputs

L2 = 1e-5  # ridge on the weights; out-of-UTKFace accuracy is flat from 1e-6 to 3e-5 (LFW 98.1-98.2%)


def fit_head(descriptors: np.ndarray, genders: np.ndarray, l2: float = L2) -> dict:
    """{mean, weights, bias}: P(female) = sigmoid((descriptor - mean) . weights + bias), by penalised likelihood."""
    x = np.asarray(descriptors, np.float64)
    y = np.asarray(genders, np.float64)
    mean = x.mean(axis=0)
    xb = np.c_[x - mean, np.ones(len(x))]

    def objective(b):
        z = xb @ b
        grad = xb.T @ (1 / (1 + np.exp(-z)) - y) / len(y)
        grad[:-1] += 2 * l2 * b[:-1]
        return np.mean(np.logaddexp(0, z) - y * z) + l2 * np.sum(b[:-1] ** 2), grad

    b = minimize(objective, np.zeros(xb.shape[1]), jac=True, method="L-BFGS-B").x
    return {"mean": [round(float(v), 6) for v in mean], "weights": [round(float(v), 6) for v in b[:-1]],
            "bias": round(float(b[-1]), 6)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=None, help="UTKFace folder (default: $AGEGENDER_DATA/utkface)")
    p.add_argument("--spec", default=str(DESCRIPTOR_SPEC), help="the descriptor's network spec to write the head into")
    args = p.parse_args(argv)
    faces = utkface("train", Path(args.data) if args.data else data_root() / "utkface")
    net = Descriptor(NetworkSpec.load(args.spec))
    out = network_outputs(faces, {"descriptor": net}, "chips", mirror=False)
    faces = faces.subset(out["index"])
    known = ~np.isnan(faces.genders)
    head = fit_head(out["none/descriptor/descriptor"][known], faces.genders[known])
    raw = json.loads(Path(args.spec).read_text())
    raw["gender_head"] = {**head, "l2": L2, "fitted_on": f"UTKFace train: {int(known.sum())} chips with a gender "
                          "label (training/gender_head.py)"}
    Path(args.spec).write_text(json.dumps(raw, indent=2) + "\n")
    print(f"gender head fitted on {int(known.sum())} chips, written to {args.spec}")


if __name__ == "__main__":
    main()
