"""Command line: `python -m agegender {train,evaluate} ...`."""

import argparse
import json
import sys
from pathlib import Path

from .paths import MODEL_SPEC, data_root, imagenet_weights


def _train(args) -> int:
    from .train import train

    weights = None if args.weights == "none" else Path(args.weights)
    if weights and not weights.is_file():
        print(f"error: ImageNet weights not found: {weights} (pass --weights PATH or --weights none)", file=sys.stderr)
        return 2
    spec = train(
        args.data,
        args.out,
        weights=weights,
        input_size=args.input_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        limit=args.limit,
        seed=args.seed,
        verbose=2 if args.quiet_progress else 1,
    )
    print(json.dumps(spec["training"], indent=2))
    return 0


def _evaluate(args) -> int:
    from .evaluate import evaluate

    metrics = evaluate(args.labels, root=args.root, split=args.split, chips=args.chips, spec=args.model, flip=args.flip)
    text = json.dumps(metrics, indent=2)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    overall = {k: metrics[k] for k in ("n", "age_mae", "age_cs5", "gender_accuracy", "interval90_coverage")}
    print(json.dumps(overall, indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m agegender", description="Apparent age and gender of every face.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train the age & gender model (resumable)")
    t.add_argument(
        "--data",
        default=str(data_root() / "utkface"),
        help="folder with labels.csv and splits/{train,dev}.txt (default: $AGEGENDER_DATA/utkface)",
    )
    t.add_argument("--out", default="runs/model", help="output folder; rerun with the same folder to resume")
    t.add_argument(
        "--weights", default=str(imagenet_weights()), help="ImageNet MobileNetV2 weights (.h5) to start from, or 'none'"
    )
    t.add_argument("--input-size", type=int, default=128, help="model input size in pixels (default 128)")
    t.add_argument("--epochs", type=int, default=18)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (cosine schedule, 1 warm-up epoch)")
    t.add_argument("--limit", type=int, help="use only the first N train and dev images (smoke runs)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--quiet-progress", action="store_true", help="one line per epoch instead of a progress bar")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="score the model on a labelled CSV and write a metrics JSON")
    e.add_argument("labels", help="CSV with path,age,gender[,race] columns")
    e.add_argument("--root", help="folder the CSV paths are relative to (default: the CSV's folder)")
    e.add_argument("--split", help="text file of paths selecting rows (e.g. splits/test.txt)")
    e.add_argument("--chips", action="store_true", help="images are already aligned face chips (UTKFace)")
    e.add_argument("--json", help="write the full metrics here")
    e.add_argument("--model", default=str(MODEL_SPEC), help="model spec JSON (default: the shipped model)")
    e.add_argument("--flip", action="store_true", help="average with the mirrored image (test-time augmentation)")
    e.set_defaults(func=_evaluate)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)
