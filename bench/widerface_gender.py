"""Gender on crowd photos: widerface_dev's faces with a perceived gender, as the default pipeline finds them.

Each labelled face is matched to the pipeline's detections (default detector and thresholds; greedy, IoU >= 0.4);
gender accuracy is reported on the matched faces, overall and by face width, with the share matched. The
model 0.2.0 target is >= 88% on matched faces at least 32 px wide. Writes bench/results/widerface_gender.json (and,
with --ship, models/widerface_gender.json for the Metrics page).
"""

import csv
import json
from pathlib import Path

import numpy as np

from agegender import Estimator
from agegender.inference.tracking import iou_matrix
from agegender.paths import MODEL_SPEC, MODELS, data_root
from bench.report import bench_parser, write_json

WIDTHS = {"under 32 px": (0, 32), "32-64 px": (32, 64), "64 px and more": (64, 1e9), "32 px and more": (32, 1e9)}


def widerface_gender(estimator, data=None) -> dict:
    """Gender accuracy on widerface_dev's labelled faces the estimator finds (before abstention: a face whose gender
    is "unknown" counts by its likelier gender), by face width, with the share matched and the genders told."""
    data = Path(data) if data else data_root() / "widerface_dev"
    labelled: dict[str, list] = {}
    for row in csv.DictReader(open(data / "faces.csv", newline="")):
        if row["gender"] in ("male", "female"):
            x, y, w, h = (float(row[k]) for k in ("x", "y", "w", "h"))
            labelled.setdefault(row["path"], []).append(((x, y, x + w, y + h), row["gender"]))
    widths, right, told = [], [], []
    sure = estimator.with_options(abstain=False)
    for path, faces in sorted(labelled.items()):
        found = estimator.analyze(data / path)
        genders = [f.gender for f in sure.analyze(data / path)]
        truth = np.array([box for box, _ in faces], np.float64)
        iou = iou_matrix(truth, np.array([f.box for f in found], np.float64).reshape(-1, 4))
        taken = set()
        for t in np.argsort(-iou.max(axis=1, initial=0)):
            choices = [d for d in np.argsort(-iou[t]) if d not in taken and iou[t, d] >= 0.4]
            widths.append(truth[t, 2] - truth[t, 0])
            if choices:
                taken.add(choices[0])
                right.append(genders[choices[0]] == faces[t][1])
                told.append(found[choices[0]].gender != "unknown")
            else:
                right.append(None)
                told.append(None)
    widths = np.array(widths)
    result = {"model_version": estimator.version, "labelled_faces": len(widths), "by_width": {}}
    for name, (low, high) in WIDTHS.items():
        sel = [(r, k) for w, r, k in zip(widths, right, told, strict=True) if low <= w < high and r is not None]
        n = int(np.sum((widths >= low) & (widths < high)))
        answered = [r for r, k in sel if k]
        result["by_width"][name] = {
            "n": n, "matched": round(len(sel) / max(n, 1), 4),
            "gender_accuracy": round(float(np.mean([r for r, _ in sel])), 4) if sel else None,
            "gender_coverage": round(len(answered) / len(sel), 4) if sel else None,
            "answered_gender_accuracy": round(float(np.mean(answered)), 4) if answered else None}
    matched = [r for r in right if r is not None]
    result["gender_accuracy_matched"] = round(float(np.mean(matched)), 4)
    return result


def main() -> None:
    p = bench_parser(__doc__, "widerface_gender")
    p.add_argument("--data", default=str(data_root() / "widerface_dev"))
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--serving", help="combined or ours (default: the spec's first)")
    p.add_argument("--ship", action="store_true", help="also write models/widerface_gender.json")
    args = p.parse_args()
    result = widerface_gender(Estimator(args.model, serving=args.serving), args.data)
    for name, figures in result["by_width"].items():
        print(f"{name:>15}: {figures}")
    result["target_32px_and_more"] = result["by_width"]["32 px and more"]["gender_accuracy"] >= 0.88
    print(f"all matched: {result['gender_accuracy_matched']:.1%}; target >= 88% at 32 px and more: "
          f"{'held' if result['target_32px_and_more'] else 'not held'}")
    write_json(args.out, result)
    if args.ship:
        (MODELS / "widerface_gender.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
