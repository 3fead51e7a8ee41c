"""Robustness: the UTKFace dev and test chips under each degradation of the suite (training/degrade.py).

For each: MAE, median AE, signed bias, CS@5, gender accuracy (women / men), 90% interval coverage, overall, for
ages 0-12, 13-59, 60+ and by head yaw (from the detected landmarks). Checks the model-v2 targets on test, prints
the table and writes bench/results/robustness.json (and, with --ship, models/robustness.json for the Metrics page).
"""

import json
from pathlib import Path

import numpy as np

from agegender.paths import MODEL_SPEC, MODELS, data_root
from agegender.training.degrade import DESCRIPTIONS, SUITE
from agegender.training.evaluate import evaluate
from agegender.training.network_outputs import combined
from bench.report import bench_parser, write_json

SINGLE = [name for name in SUITE if name not in ("none", "old_scan")]


def targets(figures: dict) -> dict[str, bool]:
    """The acceptance lines of model v2 for one split's degraded figures."""
    clean = figures["none"]["all"]
    checks = {}
    for name in SINGLE:
        f = figures[name]
        small = name == "down32"
        checks[f"{name}: MAE <= clean + {1.0 if small else 0.5}"] = f["all"]["age_mae"] <= clean["age_mae"] + (
            1.0 if small else 0.5
        )
        limit = 1.0 if small else 0.5
        checks[f"{name}: |bias| <= {limit} overall and 0-12"] = (
            abs(f["all"]["age_bias"]) <= limit and abs(f["0-12"]["age_bias"]) <= limit
        )
        gender = f["all"]["gender_accuracy"]
        checks[f"{name}: gender >= clean - 1.5 points"] = gender >= clean["gender_accuracy"] - 0.015
        checks[f"{name}: coverage 85-95%"] = 0.85 <= f["all"]["interval90_coverage"] <= 0.95
    old = figures["old_scan"]
    checks["old_scan: MAE <= clean + 1.0"] = old["all"]["age_mae"] <= clean["age_mae"] + 1.0
    checks["old_scan: |bias| 0-12 <= 1.0"] = abs(old["0-12"]["age_bias"]) <= 1.0
    return checks


def suite_lines(outputs: dict, combiner, flip=frozenset()) -> dict:
    """The model 0.2.0 robustness lines on degraded chips' network outputs: for every degradation, MAE within 0.75 y
    of clean (1.25 y down to 32 px and for the old scan) and |bias| within 0.75 y overall and for ages 0-12 (1.25 y
    for the old scan). {line: (value, target)}."""
    ages = np.asarray(outputs["faces"].ages, np.float64)
    child = ages < 13
    clean = float(np.mean(np.abs(combined(outputs, combiner, "none", flip).age - ages)))
    lines = {}
    for name in SUITE:
        if name == "none":
            continue
        err = combined(outputs, combiner, name, flip).age - ages
        loose = name in ("down32", "old_scan")
        mae = float(np.mean(np.abs(err)))
        lines[f"robustness {name}: MAE - clean"] = (mae - clean, f"<= {1.25 if loose else 0.75}")
        limit = 1.25 if name == "old_scan" else 0.75
        lines[f"robustness {name}: bias"] = (float(np.mean(err)), f"|.| <= {limit}")
        lines[f"robustness {name}: bias 0-12"] = (float(np.mean(err[child])), f"|.| <= {limit}")
    return lines


def main() -> None:
    p = bench_parser(__doc__, "robustness")
    p.add_argument("--data", default=str(data_root() / "utkface"), help="a folder with labels.csv and splits/")
    p.add_argument("--splits", default="dev,test")
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--ship", action="store_true", help="also write models/robustness.json")
    args = p.parse_args()
    data = Path(args.data)
    result = {"description": "UTKFace chips under one degradation each (deterministic, seeded); strengths for 200 px "
              "chips.", "labels": DESCRIPTIONS}
    for split in args.splits.split(","):
        metrics = evaluate(data / "labels.csv", data, data / "splits" / f"{split}.txt", True, args.model,
                           degradations=list(SUITE))
        result[split] = metrics["degraded"]
        result["model_version"] = metrics["model_version"]
        print(f"\n{split}: {'degradation':>12} {'MAE':>6} {'bias':>6} {'0-12':>6} {'gender':>7} {'women':>6} "
              f"{'men':>6} {'cover':>6}")
        for name, f in metrics["degraded"].items():
            a = f["all"]
            print(f"{'':>{len(split) + 1}} {name:>12} {a['age_mae']:6.2f} {a['age_bias']:+6.2f} "
                  f"{f['0-12'].get('age_bias', float('nan')):+6.2f} {a.get('gender_accuracy', 0):7.1%} "
                  f"{a.get('gender_accuracy_women', 0):6.1%} {a.get('gender_accuracy_men', 0):6.1%} "
                  f"{a['interval90_coverage']:6.1%}")
    if "test" in result:
        result["targets_on_test"] = targets(result["test"])
        failed = [k for k, ok in result["targets_on_test"].items() if not ok]
        print(f"\ntargets on test: {len(result['targets_on_test']) - len(failed)} of {len(result['targets_on_test'])} "
              "hold" + ("; not held: " + "; ".join(failed) if failed else ""))
    write_json(args.out, result)
    if args.ship:
        (MODELS / "robustness.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
