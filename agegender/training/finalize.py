"""Finalizing trained candidates into the served model: batch-norm statistics, selection on dev, the interval's
temperature (fitted on clean and degraded dev chips), and the spec that says how to use the model."""

import json
import logging
import time
from pathlib import Path

import numpy as np

from ..inference.align import CHIP_SIZE, LANDMARK_ORDER
from ..inference.combiner import INTERVAL_LEVEL, summarise
from ..inference.detect import DETECTORS

log = logging.getLogger(__name__)

MODEL_VERSION = "0.2.0"
MODEL_FILE = "agegender.keras"
SPEC_FILE = "agegender.json"
SPEC_DETECTOR = "retinaface"  # whose chip template the spec records
CALIBRATION_DEGRADATIONS = ("none", "greyscale", "sepia", "blur", "down48", "down32", "jpeg20", "noise", "dark_gamma")


def fit_age_offset(probs: np.ndarray, ages: np.ndarray) -> float:
    """The shift in years (to 0.01) that takes the mean signed error of the estimates to zero."""
    return round(-float(np.mean(summarise(probs)[0] - ages)), 2)


def calibrate_temperature(probs: np.ndarray, ages: np.ndarray, level: float = INTERVAL_LEVEL,
                          offset: float = 0.0) -> float:
    """The temperature whose `level` intervals cover that fraction of the true ages (grid search)."""
    best, best_gap = 1.0, np.inf
    for t in np.round(np.arange(0.5, 4.01, 0.05), 2):
        _, _, low, high = summarise(probs, t, level, offset)
        gap = abs(np.mean((ages >= low) & (ages <= high)) - level)
        if gap < best_gap:
            best, best_gap = float(t), gap
    return best


def recalibrate_batchnorm(model, batches) -> None:
    """Re-estimate every BatchNormalization layer's moving statistics as the plain mean over `batches`.

    Keras' MobileNetV2 uses momentum 0.999, so while fine-tuning moves the weights the moving statistics
    lag far behind them (measured mid-training: dev MAE 8.9 with them, 5.3 with batch statistics).
    Dropout is switched off meanwhile, so the statistics match inference.
    """
    import keras

    from .network import iter_layers

    norms = [layer for layer in iter_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    dropouts = [layer for layer in iter_layers(model) if isinstance(layer, keras.layers.Dropout)]
    momenta, rates = [n.momentum for n in norms], [d.rate for d in dropouts]
    for d in dropouts:
        d.rate = 0.0
    for k, images in enumerate(batches):
        for n in norms:
            n.momentum = k / (k + 1)
        model(images, training=True)
    for n, momentum in zip(norms, momenta, strict=True):
        n.momentum = momentum
    for d, rate in zip(dropouts, rates, strict=True):
        d.rate = rate


def average_weights(models: list):
    """The first model with every weight replaced by its mean over `models` (same architecture; useful only for
    models fine-tuned from one another, whose weights lie in one basin). Batch-norm statistics are averaged too:
    recalibrate them afterwards."""
    weights = zip(*(m.get_weights() for m in models), strict=True)
    models[0].set_weights([np.mean(each, axis=0) for each in weights])
    return models[0]


def _training_batches(train_set, input_size: int, count: int, batch_size: int = 64, seed: int = 0):
    """`count` batches of plain training chips drawn at random, as float32 (for batch-norm statistics)."""
    from .augment import resize_chips
    from .train import training_chips

    chips = training_chips(train_set, input_size)
    order = np.random.default_rng(seed).permutation(len(chips))
    for k in range(min(count, max(len(chips) // batch_size, 1))):
        index = np.sort(order[k * batch_size:(k + 1) * batch_size])
        yield resize_chips(chips[index], input_size).astype(np.float32)


def age_distributions(model, images: np.ndarray, flip: bool, batch_size: int = 128) -> np.ndarray:
    """The Keras model's age distributions for uint8 images; with `flip`, averaged with their mirror images'."""
    def predict(x):
        return model.predict(x.astype(np.float32), batch_size=batch_size, verbose=0)["age"]

    return (predict(images) + predict(images[:, :, ::-1])) / 2 if flip else predict(images)


def write_spec(out: Path, input_size: int, temperature: float, flip_tta: bool, extra: dict,
               age_offset: float = 0.0) -> dict:
    """The JSON that says how to use the saved model (`export` adds its ONNX file and hashes)."""
    spec = {
        "name": "agegender-mobilenetv2",
        "version": MODEL_VERSION,
        "model_file": MODEL_FILE,
        "input_size": input_size,
        "input": "RGB uint8 (float 0-255 in Keras), normalisation to [-1, 1] inside the model, shape [N, S, S, 3]",
        "chip": {
            "size": CHIP_SIZE,
            "description": "UTKFace aligned & cropped chip; the whole chip is resized to input_size",
            "landmarks": DETECTORS[SPEC_DETECTOR].chip_template.round(2).tolist(),
            "landmarks_order": list(LANDMARK_ORDER),
            "landmarks_detector": SPEC_DETECTOR,
        },
        "outputs": {
            "age": "softmax over ages 0..100 (index = years); estimate = mean, spread = sd",
            "gender": "P(female), sigmoid",
        },
        "gender_labels": ["male", "female"],
        "age_temperature": temperature,
        "age_offset": age_offset,
        "interval_level": INTERVAL_LEVEL,
        "flip_tta": flip_tta,
        **extra,
    }
    (out / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
    return spec


def finalize(candidates: dict, out_dir, sets, info: dict, bn_batches: int = 150, flip: bool = True) -> dict:
    """Recalibrate each candidate's batch-norm statistics on training chips, keep the one with the lowest dev MAE
    (the mean of clean and degraded dev chips), fit its age offset (mean signed error to zero) and then its 90%
    interval's temperature on those same chips, and write the shipped `agegender.keras` + `agegender.json`.

    `sets` is (train, dev). `bn_batches` 0 keeps the statistics (candidates finalized before). `flip`: the
    model is served with flip test-time augmentation, so it is selected and calibrated that way.
    """
    import keras

    from .augment import resize_chips
    from .degrade import degrade
    from .train import training_chips

    out, (train_set, dev_set) = Path(out_dir), sets
    started = time.time()
    input_size = int(next(iter(candidates.values())).input_shape[1])
    dev_chips = np.asarray(training_chips(dev_set, input_size))
    valid = ~np.isnan(dev_set.ages)
    dev_images = {name: resize_chips(degrade(dev_chips, name, seed=1), input_size) for name in CALIBRATION_DEGRADATIONS}
    scored = {}
    for name, model in candidates.items():
        if bn_batches:
            recalibrate_batchnorm(model, _training_batches(train_set, input_size, bn_batches))
        probs = {k: age_distributions(model, images, flip) for k, images in dev_images.items()}
        maes = {k: float(np.mean(np.abs(summarise(p)[0][valid] - dev_set.ages[valid]))) for k, p in probs.items()}
        score = (maes["none"] + np.mean(list(maes.values()))) / 2 if valid.any() else 0.0
        scored[name] = (score, model, probs, maes)
        log.info(f"{name}: dev age MAE {maes['none']:.3f} clean, {np.mean(list(maes.values())):.3f} over the suite")
    chosen = min(scored, key=lambda name: scored[name][0])
    score, model, probs, maes = scored[chosen]
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    saved = keras.saving.load_model(out / MODEL_FILE, compile=False)  # saved again without the optimizer's state:
    saved.save(out / MODEL_FILE)  # a third of the size (a fine-tuned model's Adam slots are twice its weights)
    pooled = np.concatenate([p[valid] for p in probs.values()])
    ages = np.tile(dev_set.ages[valid], len(probs))
    offset = fit_age_offset(pooled, ages) if valid.sum() >= 20 else 0.0
    temperature = calibrate_temperature(pooled, ages, offset=offset) if valid.sum() >= 20 else 1.0
    info = {**info, "selected": chosen, "dev_age_mae": maes["none"], "dev_age_mae_by_degradation": maes}
    info["interval_calibrated_on"] = list(CALIBRATION_DEGRADATIONS)
    if bn_batches:
        info.update(batchnorm_recalibration_batches=bn_batches, finalize_seconds=round(time.time() - started, 1))
    return write_spec(out, input_size, temperature, flip, {"training": info}, age_offset=offset)
