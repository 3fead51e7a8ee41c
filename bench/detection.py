"""Face detection accuracy on widerface_dev: recall by face width at the detector's precision.

A detection is a hit at IoU >= 0.4 with an unmatched ground-truth face; one matching a box flagged
invalid counts as neither hit nor false positive. Prints a table per score threshold and writes
bench/results/detection.json.
"""

import csv
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from agegender import DETECTORS, Estimator, read_image
from agegender.inference.detect import DEFAULT_DETECTOR, get_detector
from agegender.inference.tracking import iou_matrix
from agegender.paths import data_root
from bench.report import bench_parser, write_json

BUCKETS = (("<20", 0, 20), ("20-32", 20, 32), (">=32", 32, 1e9))
# Finer widths, in the JSON only: where one detector falls behind another.
FINE_BUCKETS = (("32-48", 32, 48), ("48-64", 48, 64), ("64-96", 64, 96), (">=96", 96, 1e9))


def load_truth(folder: Path) -> dict[str, list[dict]]:
    truth = defaultdict(list)
    with open(folder / "faces.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            x, y, w, h = (float(row[k]) for k in "xywh")
            truth[row["path"]].append({"box": [x, y, x + w, y + h], "w": w, "invalid": row["invalid"] == "1"})
    return truth


def match(pred_boxes, pred_scores, truth, iou_min: float = 0.4):
    """(per-detection outcome 'tp'/'fp'/'ignore', per-truth matched flags), greedy by score."""
    gt = np.array([t["box"] for t in truth]) if truth else np.zeros((0, 4))
    iou = iou_matrix(pred_boxes, gt) if len(pred_boxes) and len(gt) else np.zeros((len(pred_boxes), len(gt)))
    taken = np.zeros(len(gt), bool)
    outcome = []
    for d in np.argsort(-pred_scores):
        candidates = np.where(~taken & (iou[d] >= iou_min))[0] if len(gt) else []
        if len(candidates) == 0:
            outcome.append("fp")
            continue
        g = candidates[np.argmax(iou[d, candidates])]
        taken[g] = True
        outcome.append("ignore" if truth[g]["invalid"] else "tp")
    return outcome, taken


def main() -> None:
    p = bench_parser(__doc__, "detection")
    p.add_argument("--data", default=str(data_root() / "widerface_dev"))
    p.add_argument("--thresholds", default="0.3,0.35,0.4,0.44,0.5,0.6,0.7,0.8")
    p.add_argument("--detector", default=DEFAULT_DETECTOR, choices=list(DETECTORS))
    p.add_argument(
        "--min-face", type=float, default=Estimator.MIN_FACE, help="drop detections narrower than this (pixels)"
    )
    args = p.parse_args()
    folder = Path(args.data)
    truth = load_truth(folder)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    detector = get_detector(args.detector, score_threshold=min(thresholds))
    detections, seconds = {}, []
    for path in truth:
        image = read_image(folder / path)
        start = time.perf_counter()
        found = detector.detect(image)
        seconds.append(time.perf_counter() - start)
        detections[path] = found
    rows = []
    for threshold in thresholds:
        counts = defaultdict(int)
        for path, faces in truth.items():
            found = detections[path]
            keep = (found.scores >= threshold) & (found.widths >= args.min_face)
            outcome, taken = match(found.boxes[keep], found.scores[keep], faces)
            counts["tp"] += outcome.count("tp")
            counts["fp"] += outcome.count("fp")
            for face, hit in zip(faces, taken, strict=True):
                if face["invalid"]:
                    continue
                for name, lo, hi in BUCKETS + FINE_BUCKETS:
                    if lo <= face["w"] < hi:
                        counts[f"n_{name}"] += 1
                        counts[f"hit_{name}"] += int(hit)
        row = {
            "threshold": threshold,
            "precision": counts["tp"] / max(counts["tp"] + counts["fp"], 1),
            "detections": counts["tp"] + counts["fp"],
        }
        for name, _, _ in BUCKETS + FINE_BUCKETS:
            row[f"recall_{name}"] = counts[f"hit_{name}"] / max(counts[f"n_{name}"], 1)
            row[f"faces_{name}"] = counts[f"n_{name}"]
        rows.append(row)
        print(
            f"threshold {threshold:.2f}: precision {row['precision']:.3f}  recall >=32px {row['recall_>=32']:.3f}"
            f"  20-32px {row['recall_20-32']:.3f}  <20px {row['recall_<20']:.3f}  ({row['detections']} detections)"
        )
    result = {
        "data": str(folder),
        "images": len(truth),
        "detector": args.detector,
        "min_face": args.min_face,
        "default_threshold": detector.default_threshold,
        "median_ms_per_image": round(1000 * float(np.median(seconds)), 1),
        "by_threshold": rows,
    }
    print(f"median detection time {result['median_ms_per_image']} ms per image ({len(truth)} images)")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
