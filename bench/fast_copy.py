"""Auto's fast copy: UTKFace test chips pasted into 1600x1200 photos at several face sizes, through the default
detector with its fast copy at several sides (`--sides`, the first the reference). Per face size: the faces found,
age MAE and gender (every face told) of the largest face found, how far each side's estimates lie from the first's,
and how many faces' genders it gets right that the first gets wrong, and wrong that the first gets right. Prints the
figures and writes bench/results/fast_copy.json.
"""

import cv2
import numpy as np

from agegender import Estimator, read_image
from agegender.inference.detect.cascade import Cascade
from bench.report import bench_parser, utkface_sample, write_json

PAD = 60
PHOTO = (1600, 1200)
CHIP_SIDES = (160, 240, 400, 700)  # the 200 px chip's size in the photo: faces about 90 to 390 px wide


def pasted(chip: np.ndarray, side: int, rng) -> np.ndarray:
    """The chip (padded by repeating its edges) at `side` pixels, somewhere on a plain noisy photo of its colour."""
    padded = cv2.copyMakeBorder(chip, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
    size = round(side * padded.shape[0] / chip.shape[0])
    big = cv2.resize(padded, (size, size), interpolation=cv2.INTER_AREA if size < padded.shape[0] else cv2.INTER_CUBIC)
    w, h = PHOTO
    photo = np.clip(chip.reshape(-1, 3).mean(0) + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    y, x = rng.integers(0, h - size), rng.integers(0, w - size)
    photo[y : y + size, x : x + size] = big
    return photo


def main() -> None:
    p = bench_parser(__doc__, "fast_copy")
    p.add_argument("--n", type=int, default=400, help="how many test chips (a fixed random sample)")
    p.add_argument("--sides", default="640,512", help="fast copy sides to compare, the first the reference")
    args = p.parse_args()
    faces, picked = utkface_sample("test", args.n)
    sides = [int(s) for s in args.sides.split(",")]
    base = Estimator(abstain=False)
    estimators = []
    for side in sides:
        estimator = base.with_options()
        estimator.detector = Cascade(base.detector.score_threshold, base.detector.max_side, fast_side=side)
        estimators.append(estimator)
    rng = np.random.default_rng(0)
    result = {"chips": len(picked), "photo": list(PHOTO), "sides": sides, "by_chip_side": {}}
    for chip_side in CHIP_SIDES:
        rows = np.full((len(picked), len(sides), 2), np.nan)
        for k, i in enumerate(picked):
            photo = pasted(read_image(faces.paths[i]), chip_side, rng)
            for j, estimator in enumerate(estimators):
                found = estimator.analyze(photo)
                if found:
                    face = max(found, key=lambda f: f.width)
                    rows[k, j] = face.age, (face.gender == "female") == faces.genders[i]
        ages = faces.ages[picked]
        both = ~np.isnan(rows[:, :, 0]).any(axis=1)
        figures = {str(side): {"found": float(np.mean(~np.isnan(rows[:, j, 0]))),
                               "age_mae": float(np.mean(np.abs(rows[both, j, 0] - ages[both]))),
                               "gender_accuracy": float(np.mean(rows[both, j, 1])),
                               "age_moved": float(np.mean(np.abs(rows[both, j, 0] - rows[both, 0, 0]))),
                               "gender_won": int(np.sum(rows[both, j, 1] > rows[both, 0, 1])),
                               "gender_lost": int(np.sum(rows[both, j, 1] < rows[both, 0, 1]))}
                   for j, side in enumerate(sides)}
        result["by_chip_side"][str(chip_side)] = figures
        print(f"chip at {chip_side} px: " + "; ".join(
            f"{side}: found {f['found']:.1%} MAE {f['age_mae']:.2f} gender {f['gender_accuracy']:.1%} "
            f"moved {f['age_moved']:.2f} y, gender right +{f['gender_won']} -{f['gender_lost']}"
            for side, f in figures.items()))
    write_json(args.out, result)


if __name__ == "__main__":
    main()
