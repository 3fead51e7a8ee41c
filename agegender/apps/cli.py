"""Command line: `agegender {predict,serve,evaluate,train,pack,finalize,export,combine,teach} ...` (also
`python -m agegender`).

Only `train`, `pack`, `finalize`, `export`, `combine` and `teach` load the training wing (TensorFlow/Keras for
`train`, `finalize` and `export`).
"""

import argparse
import logging
import sys

from ..inference.estimator import Estimator
from ..inference.tracking import SAME_PERSON
from ..paths import MODEL_SPEC, MODELS, data_root, imagenet_weights
from .commands import (
    combine_command,
    evaluate_command,
    export_command,
    finalize_command,
    pack_command,
    teach_command,
    train_command,
)
from .options import add_estimator_arguments, estimator_options
from .serve import add_serve

EXIT_STATUS = "exit status: 0 when at least one input was read (faces or none), 1 when every input failed, 2 for usage"


def _predict(args) -> int:
    from .batch import BatchRunner
    from .inputs import expand_inputs
    from .rows import RowWriter, write_people

    inputs, others = expand_inputs(args.inputs)
    if others:
        names = ", ".join(p.name for p in others[:5]) + (", ..." if len(others) > 5 else "")
        print(f"not read: {len(others)} files in the folders are not images or videos ({names})", file=sys.stderr)
    if not inputs:
        print("error: no image or video files found in the inputs", file=sys.stderr)
        return 2
    if args.engine == "ray":
        from .scale import run_ray

        return run_ray(inputs, args)
    estimator = Estimator(**estimator_options(args))
    stream = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    fmt = args.format or ("csv" if args.out and args.out.lower().endswith(".csv") else "jsonl")
    try:
        runner = BatchRunner(estimator, RowWriter(stream, fmt), args.annotate, args.every, args.max_frames,
                             not args.no_progress, same_person=args.same_person)
        summary = runner.run(inputs)
    finally:
        if args.out:
            stream.close()
    if args.per_person:
        with open(args.per_person, "w", newline="", encoding="utf-8") as fh:
            write_people(fh, [person.to_dict() for person in runner.people])
    print(summary.line(), file=sys.stderr)
    return 0 if summary.ok + summary.no_face else 1


def _add_predict(sub) -> None:
    r = sub.add_parser(
        "predict",
        help="estimate age and gender of every face in images, folders and videos",
        description="One output row per face (JSON lines, or CSV), with file, frame (video frame, or page of a "
        "multi-page TIFF / frame of an animated GIF) and track id. Every input gets a status: ok, no_face (one row "
        "with empty face fields) or error (one row with the message). " + EXIT_STATUS + ".",
    )
    r.add_argument("inputs", nargs="+", help="image files, video files or folders (searched recursively)")
    r.add_argument("--out", help="write rows to this file instead of standard output (or a folder, with --engine ray)")
    r.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="row format (default: csv for a .csv --out, "
                   "parquet with --engine ray, else jsonl)")
    r.add_argument("--annotate", metavar="DIR", help="also write annotated images (.jpg) and videos (.mp4) here, "
                   "named after each input's relative path with its extension kept")
    r.add_argument("--per-person", metavar="FILE", help="videos: one CSV row per person (their tracks joined by how "
                   "their faces look) with a robust age and a gender vote")
    r.add_argument("--same-person", type=float, default=SAME_PERSON, metavar="DIST",
                   help=f"videos: faces whose descriptors are closer than this are one person; lower is stricter "
                   f"(default {SAME_PERSON})")
    r.add_argument("--every", type=int, default=1, metavar="N", help="videos: analyse every Nth frame (default 1)")
    r.add_argument("--max-frames", type=int, help="videos: stop after this many analysed frames")
    add_estimator_arguments(r)
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    g = r.add_argument_group("scale-out on Ray Data (agegender.apps.scale)")
    g.add_argument("--engine", choices=["local", "ray"], default="local", help="where to run (default local)")
    g.add_argument("--address", help="Ray cluster address (e.g. auto); default: a local cluster sized to this machine")
    g.add_argument("--actors", type=int, help="model actors (default: as many as the cluster's CPUs allow)")
    g.add_argument("--cpus-per-actor", type=float, help="CPUs each actor asks for (default: on a local cluster half "
                   "a CPU per actor, one actor per core; on an existing cluster 1)")
    g.add_argument("--gpus-per-actor", type=float, default=0.0, help="GPUs each actor asks for (default 0)")
    r.set_defaults(func=_predict)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="agegender", description="Apparent age and gender of every face.")
    sub = p.add_subparsers(dest="command", required=True)
    _add_predict(sub)
    add_serve(sub)

    e = sub.add_parser("evaluate", help="score the model on a labelled CSV and write a metrics JSON")
    e.add_argument("labels", help="CSV with path,age,gender[,race] columns")
    e.add_argument("--root", help="folder the CSV paths are relative to (default: the CSV's folder)")
    e.add_argument("--split", help="text file of paths selecting rows (e.g. splits/test.txt)")
    e.add_argument("--chips", action="store_true", help="images are aligned face chips (UTKFace); otherwise each "
                   "image is a photo run through detection and alignment, scoring its labelled face (of the faces at "
                   "least half as wide as the widest, the one nearest the centre)")
    e.add_argument("--degrade", metavar="NAME[,NAME...]", help="also score the chips under these degradations "
                   "(bench.robustness lists them; 'all' for the whole suite)")
    e.add_argument("--json", help="write the full metrics here")
    e.add_argument("--model", default=str(MODEL_SPEC), help="model spec JSON (default: the shipped model)")
    e.add_argument("--flip", action=argparse.BooleanOptionalAction,
                   help="average with the mirrored image (default: as the model spec says; on)")
    e.set_defaults(func=evaluate_command)

    t = sub.add_parser("train", help="train the age & gender model (resumable), or fine-tune it on your own data")
    t.add_argument("--data", default=str(data_root() / "utkface"), help="a UTKFace-layout folder (labels.csv, "
                   "splits/{train,dev}.txt) or any path,age,gender CSV (seeded train/dev split; default "
                   "$AGEGENDER_DATA/utkface)")
    t.add_argument("--out", default="runs/model", help="output folder; rerun with the same folder to resume")
    t.add_argument("--weights", default=str(imagenet_weights()), help="ImageNet MobileNetV2 weights (.h5), or 'none'")
    t.add_argument("--init", metavar="MODEL", help="fine-tune this saved .keras model (e.g. models/agegender.keras)")
    t.add_argument("--input-size", type=int, help="model input size in pixels (default 128, or the --init model's; "
                   "an --init model is rebuilt at another size with its weights)")
    t.add_argument("--epochs", type=int, default=18)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (cosine schedule, 1 warm-up epoch)")
    t.add_argument("--limit", type=int, help="use only the first N train and dev images (smoke runs)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--balance", type=float, default=0.5, help="power of the age-balancing weights (0 = none)")
    t.add_argument("--teacher", metavar="FILE", help=f"cached teacher outputs to distil (e.g. "
                   f"{MODELS / 'teachers' / 'cc0_utkface.npz'}; made by `teach`)")
    t.add_argument("--teacher-weight", default="0.2,0.2", metavar="AGE[,GENDER]",
                   help="how much of the age and gender targets comes from the teacher (default 0.2,0.2)")
    t.add_argument("--pool", action="append", default=[], metavar="CSV:TARGETS",
                   help="an unlabelled photo set (path[,identity] CSV) trained on with pseudo-labels from cached "
                   "targets (.npz), e.g. the combination's outputs; repeatable")
    t.add_argument("--chips", action=argparse.BooleanOptionalAction, help="the images are aligned chips (default: "
                   "yes for a folder with splits, no for a CSV: each photo's labelled face is aligned first)")
    t.add_argument("--quality-rate", type=float, default=0.6,
                   help="share of training chips degraded in image quality (blur, noise, JPEG, tone...; default 0.6)")
    t.add_argument("--mirror-weight", type=float, default=0.0, help="weight of the divergence between each face's "
                   "age read and its mirror image's, added to the age loss (batches then come in mirror pairs)")
    t.add_argument("--quiet-progress", action="store_true", help="one line per epoch instead of a progress bar")
    t.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="fewer epochs if the measured batch rate does not fit --epochs in this many seconds")
    t.set_defaults(func=train_command)

    k = sub.add_parser("pack", help="pack a training run's chips (WebP), labels and targets into one small folder, "
                       "to train elsewhere with `train --data PACK` (e.g. on an accelerator machine)")
    k.add_argument("--data", default=str(data_root() / "utkface"), help="data as for train")
    k.add_argument("--out", required=True, help="the pack's folder")
    k.add_argument("--teacher", metavar="FILE", help="cached teacher outputs, as for train")
    k.add_argument("--pool", action="append", default=[], metavar="CSV:TARGETS", help="as for train; repeatable")
    k.add_argument("--input-size", type=int, default=128, help="the input size it will be trained at (default 128)")
    k.add_argument("--quality", type=int, default=60, help="WebP quality (default 60)")
    k.set_defaults(func=pack_command)

    f = sub.add_parser("finalize", help="recalibrate batch norms of trained models, pick the best on dev, ship it")
    f.add_argument("sources", nargs="+", help="candidate models: .keras files or .weights.h5 files")
    f.add_argument("--out", required=True, help="folder for agegender.keras, agegender.json and agegender.onnx")
    f.add_argument("--data", default=str(data_root() / "utkface"), help="data as for train")
    f.add_argument("--input-size", type=int, default=128, help="input size of .weights.h5 candidates")
    f.add_argument("--average", action="store_true",
                   help="finalize the average of the sources' weights instead (models fine-tuned from one another)")
    f.add_argument("--bn-batches", type=int, default=150,
                   help="training batches to re-estimate batch-norm statistics on (0: keep them)")
    f.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True,
                   help="served with flip test-time augmentation: select and calibrate that way (default: on)")
    f.set_defaults(func=finalize_command)

    x = sub.add_parser("export", help="write the served ONNX model from the .keras file and record both hashes")
    x.add_argument("--model-dir", default=str(MODELS), help="folder with agegender.json and agegender.keras")
    x.set_defaults(func=export_command)

    m = sub.add_parser("combine", help="fit a model's combiner and abstention on the development sets (needs "
                       "../shared/data or $AGEGENDER_DATA)")
    m.add_argument("--model", default=str(MODEL_SPEC), help="model spec JSON with networks and servings")
    m.add_argument("--out", help="where to write the fitted spec (default: in place)")
    m.add_argument("--data", help="datasets folder (default $AGEGENDER_DATA or ../shared/data)")
    m.set_defaults(func=combine_command)

    c = sub.add_parser("teach", help="compute and cache a teacher's outputs (the CC0 networks', or a model's "
                       "combination) on aligned chips or photos (for --teacher and --pool)")
    c.add_argument("--data", default=str(data_root() / "utkface"), help="data as for train (all its rows)")
    c.add_argument("--split", help="only this split's rows (train, dev or test) of a UTKFace-layout folder")
    c.add_argument("--out", required=True, help="the .npz file to write")
    c.add_argument("--spec", default=str(MODELS / "cc0.json"), help="the CC0 networks' spec (default: the vendored)")
    c.add_argument("--model", help="a model spec: its combination is the teacher instead (e.g. models/model.json)")
    c.add_argument("--serving", default="combined", help="the model's serving that teaches (default: combined)")
    c.add_argument("--photos", action="store_true", help="the images are photos: the labelled face of each is read")
    c.add_argument("--profiles-from-frontal", metavar="TARGETS", help="instead, TARGETS (cached for a pool with an "
                   "identity and pose column) with each turned photo given its identity's frontal photos' mean")
    c.set_defaults(func=teach_command)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the library's messages, on stderr
    return args.func(args)
