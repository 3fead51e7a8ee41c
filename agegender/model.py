"""The shipped age & gender model: load it once, run it on batches of aligned chips."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .paths import MODEL_SPEC

INTERVAL_LEVEL = 0.9


@dataclass
class ModelOutput:
    """Per-chip columns: expected age, its spread (sd), the 90% interval and P(female)."""

    age: np.ndarray
    age_std: np.ndarray
    age_low: np.ndarray
    age_high: np.ndarray
    p_female: np.ndarray

    def __len__(self) -> int:
        return len(self.age)

    def __getitem__(self, index) -> "ModelOutput":
        return ModelOutput(
            self.age[index], self.age_std[index], self.age_low[index], self.age_high[index], self.p_female[index]
        )


def _quantile(cdf: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolated quantile (in years) of each row's age distribution given its CDF."""
    idx = np.minimum((cdf < q).sum(axis=1), cdf.shape[1] - 1)
    rows = np.arange(len(cdf))
    below = np.where(idx > 0, cdf[rows, np.maximum(idx - 1, 0)], 0.0)
    step = np.maximum(cdf[rows, idx] - below, 1e-12)
    return idx - 1 + np.clip((q - below) / step, 0.0, 1.0) + 0.5


def summarise(probs: np.ndarray, temperature: float = 1.0, level: float = INTERVAL_LEVEL):
    """Mean, sd and central `level` interval of age distributions; the interval uses tempered probabilities."""
    probs = np.asarray(probs, dtype=np.float64)
    grid = np.arange(probs.shape[1], dtype=np.float64)
    mean = probs @ grid
    std = np.sqrt(np.maximum(probs @ grid**2 - mean**2, 0.0))
    tempered = np.power(np.maximum(probs, 1e-12), 1.0 / temperature)
    cdf = np.cumsum(tempered / tempered.sum(axis=1, keepdims=True), axis=1)
    tail = (1.0 - level) / 2
    low = np.maximum(_quantile(cdf, tail), 0.0)
    high = np.minimum(_quantile(cdf, 1.0 - tail), probs.shape[1] - 1)
    return mean, std, np.minimum(low, mean), np.maximum(high, mean)


def calibrate_temperature(probs: np.ndarray, ages: np.ndarray, level: float = INTERVAL_LEVEL) -> float:
    """The temperature whose `level` intervals cover that fraction of the true ages (grid search)."""
    best, best_gap = 1.0, np.inf
    for t in np.round(np.arange(0.5, 4.01, 0.05), 2):
        _, _, low, high = summarise(probs, t, level)
        gap = abs(np.mean((ages >= low) & (ages <= high)) - level)
        if gap < best_gap:
            best, best_gap = float(t), gap
    return best


def served_forward(net, input_size: int, dtype: str = "uint8") -> dict:
    """Compiled passes of `net` over [N, S, S, 3] images, keyed by flip: each returns (age distributions, P(female)).

    With flip, each image and its mirror image go through the network in one call and are averaged.
    """
    import tensorflow as tf

    signature = [tf.TensorSpec([None, input_size, input_size, 3], dtype)]

    def forward(images):
        out = net(tf.cast(images, tf.float32), training=False)
        return out["age"], out["gender"][:, 0]

    def forward_flip(images):
        n = tf.shape(images)[0]
        age, gender = forward(tf.concat([images, tf.reverse(images, [2])], 0))
        return (age[:n] + age[n:]) / 2, (gender[:n] + gender[n:]) / 2

    return {
        False: tf.function(forward, input_signature=signature),
        True: tf.function(forward_flip, input_signature=signature),
    }


class AgeGenderModel:
    """The Keras model in `models/` with its spec; `predict` takes uint8 RGB chips of the spec's input size.

    `flip` (flip test-time augmentation) defaults to the spec's `flip_tta`, the way the model is served.
    The `.keras` file is the source of truth; it runs with its batch norms folded, as one compiled function.
    """

    def __init__(self, spec_path=MODEL_SPEC, batch_size: int = 64):
        import keras

        from .network import fold_batchnorm

        self.spec_path = Path(spec_path)
        self.spec = json.loads(self.spec_path.read_text())
        self.input_size = int(self.spec["input_size"])
        self.temperature = float(self.spec.get("age_temperature", 1.0))
        self.flip = bool(self.spec.get("flip_tta", False))
        self.batch_size = batch_size
        chip = self.spec.get("chip", {})
        self.chip_size = int(chip.get("size", 200))
        self.keras_model = keras.saving.load_model(self.spec_path.parent / self.spec["model_file"], compile=False)
        self._forward = served_forward(fold_batchnorm(self.keras_model), self.input_size)

    @property
    def version(self) -> str:
        return str(self.spec.get("version", "unknown"))

    def distributions(self, chips: np.ndarray, flip: bool | None = None):
        """Age distributions [N, 101] and P(female) [N] for uint8 chips [N, S, S, 3].

        With `flip`, each chip and its mirror image go through the network in the same call and are averaged.
        """
        chips = np.asarray(chips)
        if chips.ndim != 4 or chips.shape[1:] != (self.input_size, self.input_size, 3):
            raise ValueError(f"chips must be [N, {self.input_size}, {self.input_size}, 3], got {chips.shape}")
        if chips.dtype != np.uint8:
            chips = np.clip(np.rint(chips), 0, 255).astype(np.uint8)
        if len(chips) == 0:
            return np.zeros((0, 101), np.float32), np.zeros(0, np.float32)
        forward = self._forward[self.flip if flip is None else bool(flip)]
        ages, genders = [], []
        for start in range(0, len(chips), self.batch_size):
            age, gender = forward(chips[start : start + self.batch_size])
            ages.append(age.numpy())
            genders.append(gender.numpy())
        return np.concatenate(ages), np.concatenate(genders)

    def predict(self, chips: np.ndarray, flip: bool | None = None) -> ModelOutput:
        """Age estimate, spread, 90% interval and P(female) for each chip, in one batched pass."""
        probs, p_female = self.distributions(chips, flip)
        mean, std, low, high = summarise(probs, self.temperature)
        return ModelOutput(mean, std, low, high, p_female.astype(np.float64))
