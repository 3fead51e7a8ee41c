"""Training: fit the network on labelled face chips (resumable), then finalize and export the served model."""

import csv
import logging
import os
import time
from pathlib import Path

import numpy as np

from ..paths import cache_dir
from .dataset import align_photos, read_labels, seeded_split

log = logging.getLogger(__name__)

CACHE_SCALE = 1.25  # chips are cached this much larger than the input, so zoom augmentation keeps detail


def training_sets(data, limit: int | None = None, aligned: bool | None = None, seed: int = 0):
    """(train, dev) face sets and a name for the data.

    `data` is a UTKFace-layout folder (labels.csv and splits/{train,dev}.txt), a folder with only labels.csv,
    or a `path,age,gender` CSV; without split files a seeded 90/10 split is made. `aligned` says the images are
    already aligned chips (default: for a folder with splits); otherwise each photo's labelled face is aligned
    into a chip first, as inference does.
    """
    data = Path(data)
    labels = data / "labels.csv" if data.is_dir() else data
    splits = data / "splits" if data.is_dir() else None
    if splits and (splits / "train.txt").is_file() and (splits / "dev.txt").is_file():
        sets = [read_labels(labels, data, splits / f"{s}.txt") for s in ("train", "dev")]
        aligned = True if aligned is None else aligned
    else:
        sets = list(seeded_split(read_labels(labels), seed=seed))
        aligned = False if aligned is None else aligned
    if limit:
        sets = [s.subset(range(min(limit, len(s)))) for s in sets]
    if not aligned:
        folder = cache_dir() / "aligned" / labels.resolve().parent.name
        sets = [align_photos(s, folder)[0] for s in sets]
    return sets[0], sets[1], data.stem if data.is_file() else data.name


def training_chips(faces, input_size: int):
    """A face set's chips as cached for training at `input_size`: `CACHE_SCALE` times larger."""
    from .dataset import load_chips

    return load_chips(faces, int(round(input_size * CACHE_SCALE)))


def plain_arrays(faces, input_size: int):
    """Un-augmented (images, target columns, sample weights) of a face set's cached chips."""
    from .augment import resize_chips, target_columns

    return (resize_chips(training_chips(faces, input_size), input_size), *target_columns(faces.ages, faces.genders))


def _best_so_far(history: Path, monitor: str) -> float:
    if not history.is_file():
        return np.inf
    with open(history, newline="") as fh:
        values = [float(row[monitor]) for row in csv.DictReader(fh) if row.get(monitor)]
    return min(values, default=np.inf)


def prepared_sets(data, limit: int | None = None, aligned: bool | None = None, seed: int = 0, teacher=None,
                  pools=()) -> tuple:
    """(train, dev, targets or None, info) as training takes them: `training_sets`, the teacher's targets where
    trusted, and the unlabelled `pools` added with their pseudo-labels (see `train`)."""
    from .teachers import load_targets, pseudo_labelled, trusted

    train_set, dev_set, name = training_sets(data, limit, aligned, seed)
    targets = trusted(load_targets(train_set, teacher), train_set.ages) if teacher else None
    for labels_csv, cache in pools:
        pool, pool_targets = pseudo_labelled(labels_csv, cache)
        if targets is None:
            targets = {"age": np.full((len(train_set), 101), np.nan), "p_female": np.full(len(train_set), np.nan)}
        targets = {key: np.concatenate([targets[key], pool_targets[key]]) for key in ("age", "p_female")} | {
            "kind": pool_targets["kind"]}
        train_set += pool
    info = {
        "data": name,
        "teacher": Path(teacher).name if teacher else None,
        "pools": [{"labels": str(labels_csv), "targets": Path(cache).name} for labels_csv, cache in pools],
    }
    return train_set, dev_set, targets, info


def initial_model(init=None, input_size: int | None = None, weights=None):
    """The model training starts from: the saved `init` model (rebuilt at `input_size` if that is given and differs:
    the network's weights do not depend on its input size), else a new one at `input_size` (default 128) with
    ImageNet `weights`."""
    import keras

    from .network import build_model

    if not init:
        return build_model(input_size or 128, weights)
    model = keras.saving.load_model(init, compile=False)
    if input_size is None or input_size == model.input_shape[1]:
        return model
    resized = build_model(input_size)
    resized.set_weights(model.get_weights())
    return resized


def train(
    data,
    out_dir,
    weights=None,
    init=None,
    input_size: int | None = None,
    epochs: int = 18,
    batch_size: int = 64,
    learning_rate: float = 5e-4,
    limit: int | None = None,
    seed: int = 0,
    balance: float = 0.5,
    teacher=None,
    teacher_weight: tuple[float, float] = (0.0, 0.0),
    aligned: bool | None = None,
    quality_rate: float = 0.6,
    pools=(),
    verbose: int = 1,
    time_budget: float | None = None,
    mirror_weight: float = 0.0,
) -> dict:
    """Train, select on dev, and write the served model; resumes from `out_dir/backup` if present.

    `init` is a saved `.keras` model to fine-tune further instead of starting from ImageNet `weights`;
    `balance` is the power of the age-balancing sample weights (0 = none). `teacher` is a cache of teacher
    outputs (`teachers.load_targets`), mixed into the age and gender targets by `teacher_weight` where the
    teacher is trusted (`teachers.trusted`). `pools` are unlabelled photo sets, each `(labels CSV, targets .npz)`,
    added to the training faces with pseudo-labels and soft targets from those targets (`teachers.pseudo_labelled`).
    `quality_rate` is the share of training chips degraded in image quality (`degrade.random_quality`).
    `data` may be a pack (`training/pack.py`: chips, labels and targets prepared elsewhere; `teacher` and `pools`
    are then the pack's). `time_budget` (seconds) caps the epochs at what the measured batch rate fits in it.
    `mirror_weight` adds to the age loss that times the divergence of each face's read from its mirror image's
    (`losses.mirror_divergence`; the training and dev batches then come in mirror pairs).

    Writes `history.csv`, `best.keras`, and at the end the shipped `agegender.keras`, `.json` and `.onnx`. Any
    Keras backend trains (JAX on an accelerator, say); the ONNX export needs TensorFlow, so under another backend
    it is left to `python -m agegender export --model-dir OUT` on a machine that has it.
    """
    import keras

    from .augment import TrainingBatches, balancing_weights, mirror_pairs
    from .export import export
    from .finalize import finalize
    from .losses import AgeLoss, GenderLoss, gender_accuracy, mae_years
    from .pack import is_pack, read_pack

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    model = initial_model(init, input_size, weights)
    input_size = int(model.input_shape[1])
    if is_pack(data):
        train_set, dev_set, targets, sets_info = read_pack(data, input_size, CACHE_SCALE, limit)
        sets_info = {key: sets_info.get(key) for key in ("data", "teacher", "pools")} | {"pack": Path(data).name}
        teacher = sets_info["teacher"]
    else:
        train_set, dev_set, targets, sets_info = prepared_sets(data, limit, aligned, seed, teacher, pools)
    started = time.time()
    train_batches = TrainingBatches(
        training_chips(train_set, input_size),
        train_set.ages,
        train_set.genders,
        balancing_weights(train_set.ages, power=balance),
        input_size,
        batch_size,
        seed=seed,
        teacher=targets,
        quality_rate=quality_rate,
        workers=min(12, os.cpu_count() or 1),
        mirrored=mirror_weight > 0,
    )
    steps = train_batches.num_batches
    if time_budget:
        epochs = min(epochs, max(2, int(time_budget * train_batches.measured_rate() / (steps * batch_size))))
        log.info(f"{epochs} epochs fit the time budget of {time_budget:.0f} s")
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate / 20,
        decay_steps=max(steps * epochs - steps, 1),
        alpha=0.02,
        warmup_target=learning_rate,
        warmup_steps=steps,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4),
        loss={"age": AgeLoss(teacher_weight[0], mirror_weight), "gender": GenderLoss(teacher_weight[1])},
        metrics={"age": [mae_years], "gender": [gender_accuracy]},
    )
    monitor = "val_age_mae_years"
    history_csv = out / "history.csv"
    best = keras.callbacks.ModelCheckpoint(out / "best.keras", monitor=monitor, mode="min", save_best_only=True)
    best.best = _best_so_far(history_csv, monitor)
    callbacks = [keras.callbacks.BackupAndRestore(out / "backup"), keras.callbacks.CSVLogger(history_csv, append=True),
                 best]
    if time_budget:  # the measured rate is the augmentation's; should the accelerator be slower, stop in time
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(
            model, "stop_training", model.stop_training or time.time() - started > 1.3 * time_budget)))
    dev_arrays, dev_batch = plain_arrays(dev_set, input_size), 128
    model.fit(
        train_batches,
        validation_data=mirror_pairs(*dev_arrays, faces=dev_batch // 2) if mirror_weight else dev_arrays,
        validation_batch_size=dev_batch,
        epochs=epochs,
        verbose=verbose,
        callbacks=callbacks,
    )
    backend = keras.backend.backend()
    candidates = {"last epoch": model}
    if (out / "best.keras").is_file():
        candidates["best dev epoch"] = keras.saving.load_model(out / "best.keras", compile=False)
    info = {
        "data": sets_info["data"],
        "train_images": len(train_set),
        "dev_images": len(dev_set),
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "imagenet_init": bool(weights) and not init,
        "init": Path(init).name if init else None,
        "balance_power": balance,
        "augmentation": f"geometric, photometric, image quality (degrade.random_quality) on {quality_rate:.0%}",
        **{key: value for key, value in sets_info.items() if key != "data"},
        "teacher_weight": {"age": teacher_weight[0], "gender": teacher_weight[1]} if teacher else None,
        "mirror_weight": mirror_weight or None,
        "fit_seconds": round(time.time() - started, 1),
        "keras_backend": backend,
    }
    spec = finalize(candidates, out, (train_set, dev_set), info)
    if backend != "tensorflow":
        log.info(f"trained under {backend}: export to ONNX with `python -m agegender export --model-dir {out}`")
        return spec
    return export(out)
