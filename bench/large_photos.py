"""Large faces: UTKFace test chips enlarged into big photos, through each detector and the model.

Each chip is padded (edge pixels repeated) and enlarged to --side pixels, so the face is several hundred
pixels wide. Reports for each detector the detected fraction, age MAE and gender accuracy of the largest
face. Prints the figures and writes bench/results/large_photos.json.
"""

import cv2
import numpy as np

from agegender import DETECTORS, Estimator, read_image
from bench.report import bench_parser, utkface_sample, write_json

PAD = 60


def main() -> None:
    p = bench_parser(__doc__, "large_photos")
    p.add_argument("--n", type=int, default=600, help="how many test chips (a fixed random sample)")
    p.add_argument("--side", type=int, default=1600, help="photo size in pixels")
    args = p.parse_args()
    faces, picked = utkface_sample("test", args.n)
    base = Estimator()
    estimators = {name: base.with_options(detector=name) for name in DETECTORS}
    rows = {name: [] for name in DETECTORS}
    for i in picked:
        padded = cv2.copyMakeBorder(read_image(faces.paths[i]), PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
        photo = cv2.resize(padded, (args.side, args.side), interpolation=cv2.INTER_CUBIC)
        for name, estimator in estimators.items():
            found = estimator.analyze(photo)
            if found:
                face = max(found, key=lambda f: f.box[2] - f.box[0])
                rows[name].append((abs(face.age - faces.ages[i]), (face.gender == "female") == faces.genders[i]))
    result = {"chips": len(picked), "side": args.side, "detectors": {}}
    for name, got in rows.items():
        errors = np.array(got, dtype=float).reshape(-1, 2)
        result["detectors"][name] = {
            "detected_fraction": len(got) / len(picked),
            "age_mae": float(errors[:, 0].mean()),
            "gender_accuracy": float(errors[:, 1].mean()),
        }
        r = result["detectors"][name]
        print(
            f"{name:>11}: detected {r['detected_fraction']:.1%}  age MAE {r['age_mae']:.2f}  "
            f"gender {r['gender_accuracy']:.1%}"
        )
    write_json(args.out, result)


if __name__ == "__main__":
    main()
