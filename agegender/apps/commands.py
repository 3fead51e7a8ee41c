"""The command line's `evaluate`, `train`, `finalize`, `export` and `teach` commands: arguments in, wing calls out."""

import json
import sys
from pathlib import Path


def evaluate_command(args) -> int:
    from ..training.degrade import SUITE
    from ..training.evaluate import evaluate

    names = [] if not args.degrade else list(SUITE) if args.degrade == "all" else args.degrade.split(",")
    unknown = [n for n in names if n not in SUITE]
    if unknown:
        print(f"error: unknown degradation {unknown[0]!r}; known: {', '.join(SUITE)}", file=sys.stderr)
        return 2
    metrics = evaluate(args.labels, args.root, args.split, args.chips, args.model, args.flip, names)
    text = json.dumps(metrics, indent=2)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    keys = ("n", "detected_fraction", "age_mae", "age_cs5", "gender_accuracy", "interval90_coverage")
    overall = {k: metrics[k] for k in keys if k in metrics}
    for name, figures in metrics.get("degraded", {}).items():
        overall[f"{name}: age_mae / bias / gender"] = [
            round(figures["all"].get(k, float("nan")), 4) for k in ("age_mae", "age_bias", "gender_accuracy")
        ]
    print(json.dumps(overall, indent=2))
    return 0


def _pools(args) -> list[tuple[str, str]]:
    """`--pool CSV:TARGETS` options as (labels CSV, targets) pairs."""
    return [tuple(pool.rsplit(":", 1)) for pool in args.pool]


def _weights(text: str) -> tuple[float, float]:
    values = [float(v) for v in text.split(",")]
    return values[0], values[-1]


def train_command(args) -> int:
    from ..training.train import train

    weights = None if args.weights == "none" else Path(args.weights)
    if weights and not weights.is_file() and not args.init:
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
        teacher=args.teacher,
        teacher_weight=_weights(args.teacher_weight),
        aligned=args.chips,
        quality_rate=args.quality_rate,
        pools=_pools(args),
        verbose=2 if args.quiet_progress else 1,
        time_budget=args.time_budget,
        mirror_weight=args.mirror_weight,
    )
    print(json.dumps(spec["training"], indent=2))
    return 0


def pack_command(args) -> int:
    from ..training.pack import write_pack
    from ..training.train import CACHE_SCALE, prepared_sets

    train_set, dev_set, targets, info = prepared_sets(args.data, teacher=args.teacher, pools=_pools(args))
    meta = write_pack(args.out, train_set, dev_set, targets, info, int(round(args.input_size * CACHE_SCALE)),
                      args.quality)
    print(json.dumps(meta, indent=2))
    return 0


def finalize_command(args) -> int:
    import keras

    from ..training.export import export
    from ..training.finalize import SPEC_FILE, average_weights, finalize
    from ..training.network import build_model
    from ..training.train import training_sets

    candidates = {}
    for source in map(Path, args.sources):
        if source.name.endswith(".weights.h5"):
            model = build_model(args.input_size)
            model.load_weights(source)
        else:
            model = keras.saving.load_model(source, compile=False)
        candidates[str(source)] = model
    if args.average:
        candidates = {f"weights averaged over {', '.join(candidates)}": average_weights(list(candidates.values()))}
    spec_path = Path(args.out) / SPEC_FILE
    info = json.loads(spec_path.read_text()).get("training", {}) if spec_path.is_file() else {}
    train_set, dev_set, _ = training_sets(args.data)
    finalize(candidates, args.out, (train_set, dev_set), info, bn_batches=args.bn_batches, flip=args.flip)
    spec = export(args.out)
    print(json.dumps(spec["training"], indent=2))
    return 0


def export_command(args) -> int:
    from ..training.export import export

    spec = export(args.model_dir)
    print(f"{spec['onnx_file']}: from {spec['model_file']} (sha256 {spec['keras_sha256'][:12]}...)")
    return 0


def teach_command(args) -> int:
    from ..training.dataset import read_labels
    from ..training.teachers import compute_combined_targets, compute_targets, frontal_for_profiles

    data = Path(args.data)
    labels = data / "labels.csv" if data.is_dir() else data
    if args.profiles_from_frontal:
        written = frontal_for_profiles(labels, args.profiles_from_frontal, args.out)
        print(f"teacher outputs written to {written}: turned photos given their identity's frontal reads")
        return 0
    split = data / "splits" / f"{args.split}.txt" if args.split else None
    faces = read_labels(labels, split=split)
    if args.model:
        written = compute_combined_targets(faces, args.out, args.model, args.serving,
                                           "photos" if args.photos else "chips")
    else:
        written = compute_targets(faces, args.out, args.spec)
    print(f"teacher outputs written to {written} for {len(faces)} {'photos' if args.photos else 'chips'}")
    return 0


def combine_command(args) -> int:
    from ..training.combine import fit_spec

    spec = fit_spec(args.model, args.out, args.data)
    print(json.dumps(spec["combiners"], indent=2))
    return 0
