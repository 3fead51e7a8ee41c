"""Gender on crowd photos: widerface_dev's faces with a perceived gender, as the default pipeline finds them.

Each labelled face is matched to the pipeline's detections (default detector and thresholds; greedy, IoU >= 0.4);
gender accuracy is reported on the matched faces, overall and by face width, with the share matched. The
model-v2 target is >= 85% on matched faces at least 32 px wide. Writes bench/results/widerface_gender.json (and,
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


def main() -> None:
    p = bench_parser(__doc__, "widerface_gender")
    p.add_argument("--data", default=str(data_root() / "widerface_dev"))
    p.add_argument("--model", default=str(MODEL_SPEC))
    p.add_argument("--ship", action="store_true", help="also write models/widerface_gender.json")
    args = p.parse_args()
    data = Path(args.data)
    labelled: dict[str, list] = {}
    for row in csv.DictReader(open(data / "faces.csv", newline="")):
        if row["gender"] in ("male", "female"):
            x, y, w, h = (float(row[k]) for k in ("x", "y", "w", "h"))
            labelled.setdefault(row["path"], []).append(((x, y, x + w, y + h), row["gender"]))
    estimator = Estimator(args.model)
    widths, right = [], []
    for path, faces in sorted(labelled.items()):
        found = estimator.analyze(data / path)
        truth = np.array([box for box, _ in faces], np.float64)
        iou = iou_matrix(truth, np.array([f.box for f in found], np.float64).reshape(-1, 4))
        taken = set()
        for t in np.argsort(-iou.max(axis=1, initial=0)):
            choices = [d for d in np.argsort(-iou[t]) if d not in taken and iou[t, d] >= 0.4]
            widths.append(truth[t, 2] - truth[t, 0])
            if choices:
                taken.add(choices[0])
                right.append(found[choices[0]].gender == faces[t][1])
            else:
                right.append(None)
    widths = np.array(widths)
    result = {"model_version": estimator.model.version, "labelled_faces": len(widths), "by_width": {}}
    for name, (low, high) in WIDTHS.items():
        sel = [r for w, r in zip(widths, right, strict=True) if low <= w < high]
        matched = [r for r in sel if r is not None]
        result["by_width"][name] = {"n": len(sel), "matched": round(len(matched) / max(len(sel), 1), 4),
                                    "gender_accuracy": round(float(np.mean(matched)), 4) if matched else None}
        print(f"{name:>15}: {len(sel)} labelled, {len(matched)} matched, gender accuracy "
              f"{result['by_width'][name]['gender_accuracy']}")
    matched = [r for r in right if r is not None]
    result["gender_accuracy_matched"] = round(float(np.mean(matched)), 4)
    result["target_32px_and_more"] = result["by_width"]["32 px and more"]["gender_accuracy"] >= 0.85
    print(f"all matched: {result['gender_accuracy_matched']:.1%}; target >= 85% at 32 px and more: "
          f"{'held' if result['target_32px_and_more'] else 'not held'}")
    write_json(args.out, result)
    if args.ship:
        (MODELS / "widerface_gender.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
