"""Full pipeline against chips mode on the UTKFace test split: the detect + align path must lose nothing.

Evaluates the shipped model twice on the same images, once on the given aligned chips (--chips mode)
and once through detection and alignment, and prints the detected fraction and the differences.
Writes bench/results/photos_vs_chips.json.
"""

from pathlib import Path

from agegender.paths import data_root
from agegender.training.evaluate import evaluate
from bench.report import bench_parser, write_json

KEYS = ("age_mae", "age_cs5", "gender_accuracy", "interval90_coverage")


def main() -> None:
    p = bench_parser(__doc__, "photos_vs_chips")
    p.add_argument("--data", default=str(data_root() / "utkface"))
    p.add_argument("--split", default="test")
    args = p.parse_args()
    folder = Path(args.data)
    common = {"labels": folder / "labels.csv", "root": folder, "split": folder / "splits" / f"{args.split}.txt"}
    chips = evaluate(**common, chips=True)
    photos = evaluate(**common, chips=False)
    result = {
        "n": chips["n"],
        "detected_fraction": photos["detected_fraction"],
        "chips": {k: chips[k] for k in KEYS},
        "photos": {k: photos[k] for k in KEYS},
        "difference": {k: photos[k] - chips[k] for k in KEYS},
    }
    print(f"detected {photos['detected_fraction']:.2%} of {chips['n']} chips")
    for k in KEYS:
        print(f"{k:>20}: chips {chips[k]:.4f}  photos {photos[k]:.4f}  difference {photos[k] - chips[k]:+.4f}")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
