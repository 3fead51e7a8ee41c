"""Command line: `python -m agegender {train,evaluate} ...`."""

import argparse
import json
import sys
from pathlib import Path

from .detect import DETECTORS, Cascade, RetinaFace
from .estimator import Estimator
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
        init=args.init,
        input_size=args.input_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        limit=args.limit,
        seed=args.seed,
        balance=args.balance,
        verbose=2 if args.quiet_progress else 1,
    )
    print(json.dumps(spec["training"], indent=2))
    return 0


def _finalize(args) -> int:
    import keras

    from .network import build_model
    from .train import SPEC_FILE, finalize

    candidates = {}
    for source in map(Path, args.sources):
        if source.name.endswith(".weights.h5"):
            model = build_model(args.input_size)
            model.load_weights(source)
        else:
            model = keras.saving.load_model(source, compile=False)
        candidates[str(source)] = model
    spec_path = Path(args.out) / SPEC_FILE
    info = json.loads(spec_path.read_text()).get("training", {}) if spec_path.is_file() else {}
    spec = finalize(candidates, args.out, args.data, info, bn_batches=args.bn_batches, flip=args.flip)
    print(json.dumps(spec["training"], indent=2))
    return 0


def _evaluate(args) -> int:
    from .evaluate import evaluate

    metrics = evaluate(args.labels, root=args.root, split=args.split, chips=args.chips, spec=args.model, flip=args.flip)
    text = json.dumps(metrics, indent=2)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    keys = ("n", "detected_fraction", "age_mae", "age_cs5", "gender_accuracy", "interval90_coverage")
    overall = {k: metrics[k] for k in keys if k in metrics}
    print(json.dumps(overall, indent=2))
    return 0


def _predict(args) -> int:
    from .batch import BatchRunner, RowWriter, expand_inputs

    paths = expand_inputs(args.inputs)
    if not paths:
        print("error: no image or video files found in the inputs", file=sys.stderr)
        return 1
    estimator = Estimator(
        args.model, detector=args.detector, score_threshold=args.threshold, min_face=args.min_face, flip=args.flip
    )
    stream = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    fmt = args.format or ("csv" if args.out and args.out.lower().endswith(".csv") else "jsonl")
    try:
        runner = BatchRunner(
            estimator, RowWriter(stream, fmt), args.annotate, args.every, args.max_frames, progress=not args.no_progress
        )
        summary = runner.run(paths)
    finally:
        if args.out:
            stream.close()
    frames = f", {summary.frames} video frames" if summary.frames else ""
    print(
        f"processed {summary.processed} of {len(paths)} inputs{frames}: {summary.faces} faces; "
        f"skipped {len(summary.failed)}",
        file=sys.stderr,
    )
    return 0 if summary.processed else 1


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
    t.add_argument("--init", metavar="MODEL", help="fine-tune this saved .keras model further instead of ImageNet")
    t.add_argument("--input-size", type=int, default=128, help="model input size in pixels (default 128)")
    t.add_argument("--epochs", type=int, default=18)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (cosine schedule, 1 warm-up epoch)")
    t.add_argument("--limit", type=int, help="use only the first N train and dev images (smoke runs)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument(
        "--balance", type=float, default=0.5, help="power of the age-balancing sample weights (0 = none; default 0.5)"
    )
    t.add_argument("--quiet-progress", action="store_true", help="one line per epoch instead of a progress bar")
    t.set_defaults(func=_train)

    r = sub.add_parser(
        "predict",
        help="estimate age and gender of every face in images, folders and videos",
        description="One output row per face (JSON lines, or CSV), with file, frame and track id. Unreadable "
        "inputs are reported and skipped; the exit status is 1 when nothing could be processed.",
    )
    r.add_argument("inputs", nargs="+", help="image files, video files or folders (searched recursively)")
    r.add_argument("--out", help="write rows to this file instead of standard output")
    r.add_argument("--format", choices=["jsonl", "csv"], help="row format (default: csv for a .csv --out, else jsonl)")
    r.add_argument("--annotate", metavar="DIR", help="also write annotated images (.jpg) and videos (.mp4) here")
    r.add_argument("--every", type=int, default=1, metavar="N", help="videos: analyse every Nth frame (default 1)")
    r.add_argument("--max-frames", type=int, help="videos: stop after this many analysed frames")
    r.add_argument(
        "--min-face",
        type=float,
        default=Estimator.MIN_FACE,
        metavar="PX",
        help=f"ignore faces narrower than this (default {Estimator.MIN_FACE:g})",
    )
    r.add_argument(
        "--threshold",
        type=float,
        help="face detection score threshold (default: the detector's own: "
        + ", ".join(f"{name} {cls.default_threshold}" for name, cls in DETECTORS.items())
        + f"; auto keeps no retinaface face under {RetinaFace.default_threshold})",
    )
    r.add_argument(
        "--detector",
        default=Cascade.name,
        choices=list(DETECTORS),
        help="face detector: auto (default: retinaface, and centerface where faces are small or none is found), "
        "retinaface (fast) or centerface (thorough: more small and hard faces, slower)",
    )
    r.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        help="average each face with its mirror image (default: as the model spec says; on for the shipped model)",
    )
    r.add_argument("--model", default=str(MODEL_SPEC), help="model spec JSON (default: the shipped model)")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    r.set_defaults(func=_predict)

    f = sub.add_parser(
        "finalize",
        help="recalibrate batch-norm statistics of trained weights, pick the best on dev, write the shipped model",
    )
    f.add_argument("sources", nargs="+", help="candidate models: .keras files or .weights.h5 files")
    f.add_argument("--out", required=True, help="folder for agegender.keras and agegender.json")
    f.add_argument("--data", default=str(data_root() / "utkface"), help="folder with labels.csv and splits/")
    f.add_argument("--input-size", type=int, default=128, help="input size of .weights.h5 candidates")
    f.add_argument(
        "--bn-batches",
        type=int,
        default=150,
        help="training batches to re-estimate batch-norm statistics on (0: keep them, for already finalized models)",
    )
    f.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve with flip test-time augmentation: select and calibrate on dev that way (default: on)",
    )
    f.set_defaults(func=_finalize)

    e = sub.add_parser("evaluate", help="score the model on a labelled CSV and write a metrics JSON")
    e.add_argument("labels", help="CSV with path,age,gender[,race] columns")
    e.add_argument("--root", help="folder the CSV paths are relative to (default: the CSV's folder)")
    e.add_argument("--split", help="text file of paths selecting rows (e.g. splits/test.txt)")
    e.add_argument(
        "--chips",
        action="store_true",
        help="images are already aligned face chips (UTKFace); otherwise each image is a photo run "
        "through detection and alignment, scoring its largest face",
    )
    e.add_argument("--json", help="write the full metrics here")
    e.add_argument("--model", default=str(MODEL_SPEC), help="model spec JSON (default: the shipped model)")
    e.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        help="average with the mirrored image (default: as the model spec says; on for the shipped model)",
    )
    e.set_defaults(func=_evaluate)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)
