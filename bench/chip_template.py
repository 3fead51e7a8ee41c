"""Measure where the 5 face landmarks sit on UTKFace's aligned chips: the template inference aligns to.

Runs the detector on UTKFace training chips (padded so the face is not cut off), keeps the best face
of each, and writes the mean landmark positions (200x200 chip pixels), their spread and the detection
rate to bench/results/chip_template.json.
"""

import json

import cv2
import numpy as np

from agegender import DETECTORS, read_image
from agegender.inference.align import LANDMARK_ORDER
from agegender.inference.detect import get_detector
from agegender.training.dataset import utkface
from bench.report import bench_parser, write_json

PAD = 60


def main() -> None:
    p = bench_parser(__doc__, "chip_template")
    p.add_argument("--n", type=int, default=2000, help="how many training chips to measure")
    own_landmarks = [name for name, detector in DETECTORS.items() if detector.chip_template is not None]
    p.add_argument("--detector", default="retinaface", choices=own_landmarks)
    args = p.parse_args()
    faces = utkface("train")
    rng = np.random.default_rng(0)
    detector = get_detector(args.detector, max_side=None)
    points = []
    for i in rng.choice(len(faces), size=min(args.n, len(faces)), replace=False):
        chip = read_image(faces.paths[i])
        found = detector.detect(cv2.copyMakeBorder(chip, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE))
        if len(found):
            points.append(found.landmarks[0] - PAD)
    points = np.array(points, dtype=np.float64)
    result = {
        "detector": args.detector,
        "chips": int(args.n),
        "detected": len(points),
        "chip_size": 200,
        "landmarks_mean": np.round(points.mean(axis=0), 2).tolist(),
        "landmarks_median": np.round(np.median(points, axis=0), 2).tolist(),
        "landmarks_std": np.round(points.std(axis=0), 2).tolist(),
        "order": list(LANDMARK_ORDER),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
