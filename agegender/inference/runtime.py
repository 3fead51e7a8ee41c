"""The served age & gender model: the ONNX file exported from the trained `.keras` model, on onnxruntime."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..paths import MODEL_SPEC
from .onnx import session, thread_count

INTERVAL_LEVEL = 0.9
CHIPS_PER_THREAD = 4  # network inputs per call and thread (flipped copies included): bench/model_speed.py


@dataclass
class ModelOutput:
    """Per-chip columns: expected age, its spread (sd), the 90% interval and P(female); `data` holds further
    columns that slice with the rows (a face's descriptor, its track id)."""

    age: np.ndarray
    age_std: np.ndarray
    age_low: np.ndarray
    age_high: np.ndarray
    p_female: np.ndarray
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.age)

    def __getitem__(self, index) -> "ModelOutput":
        return ModelOutput(
            self.age[index], self.age_std[index], self.age_low[index], self.age_high[index], self.p_female[index],
            {key: value[index] for key, value in self.data.items()},
        )


def _quantile(cdf: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolated quantile (in years) of each row's age distribution given its CDF."""
    idx = np.minimum((cdf < q).sum(axis=1), cdf.shape[1] - 1)
    rows = np.arange(len(cdf))
    below = np.where(idx > 0, cdf[rows, np.maximum(idx - 1, 0)], 0.0)
    step = np.maximum(cdf[rows, idx] - below, 1e-12)
    return idx - 1 + np.clip((q - below) / step, 0.0, 1.0) + 0.5


def summarise(probs: np.ndarray, temperature: float = 1.0, level: float = INTERVAL_LEVEL, offset: float = 0.0):
    """Mean, sd and central `level` interval of age distributions; the interval uses tempered probabilities.

    `offset` (years, fitted on dev by finalize) moves the estimate and the interval together, within 0-100.
    """
    probs = np.asarray(probs, dtype=np.float64)
    top = probs.shape[1] - 1
    grid = np.arange(probs.shape[1], dtype=np.float64)
    mean = probs @ grid
    std = np.sqrt(np.maximum(probs @ grid**2 - mean**2, 0.0))
    tempered = np.power(np.maximum(probs, 1e-12), 1.0 / temperature)
    cdf = np.cumsum(tempered / tempered.sum(axis=1, keepdims=True), axis=1)
    tail = (1.0 - level) / 2
    low, high = _quantile(cdf, tail), _quantile(cdf, 1.0 - tail)
    mean, low, high = (np.clip(v + offset, 0.0, top) for v in (mean, low, high))
    return mean, std, np.minimum(low, mean), np.maximum(high, mean)


class AgeGenderModel:
    """The model in `models/` with its spec; `predict` takes uint8 RGB chips of the spec's input size.

    The `.keras` file is the source of truth; what runs is its ONNX export (`python -m agegender export`,
    batch norms folded), whose spec records the hash of the `.keras` file it came from. `flip` (flip
    test-time augmentation: each chip and its mirror image in one network call, averaged) defaults to the
    spec's `flip_tta`, the way the model is served. Larger inputs go to the network `batch_size` chips at a time
    (default `CHIPS_PER_THREAD` per thread, flipped copies included): bigger batches spill out of the CPU's caches
    and run slower per chip.
    """

    def __init__(self, spec_path=MODEL_SPEC, batch_size: int | None = None, threads: int = 0):
        self.spec_path = Path(spec_path)
        self.spec = json.loads(self.spec_path.read_text())
        self.input_size = int(self.spec["input_size"])
        self.temperature = float(self.spec.get("age_temperature", 1.0))
        self.age_offset = float(self.spec.get("age_offset", 0.0))
        self.flip = bool(self.spec.get("flip_tta", False))
        self.batch_size = batch_size or CHIPS_PER_THREAD * thread_count(threads)
        self.chip_size = int(self.spec.get("chip", {}).get("size", 200))
        if "onnx_file" not in self.spec:
            raise FileNotFoundError(f"{self.spec_path}: no ONNX export recorded; run `python -m agegender export`")
        self.session = session(self.spec_path.parent / self.spec["onnx_file"], threads=threads)
        self._input = self.session.get_inputs()[0].name

    @property
    def version(self) -> str:
        return str(self.spec.get("version", "unknown"))

    def distributions(self, chips: np.ndarray, flip: bool | None = None):
        """Age distributions [N, 101] and P(female) [N] for uint8 chips [N, S, S, 3]."""
        chips = np.asarray(chips)
        if chips.ndim != 4 or chips.shape[1:] != (self.input_size, self.input_size, 3):
            raise ValueError(f"chips must be [N, {self.input_size}, {self.input_size}, 3], got {chips.shape}")
        if chips.dtype != np.uint8:
            chips = np.clip(np.rint(chips), 0, 255).astype(np.uint8)
        flip = self.flip if flip is None else bool(flip)
        ages, genders = [np.zeros((0, 101), np.float32)], [np.zeros(0, np.float32)]
        step = max(1, self.batch_size // 2) if flip else self.batch_size
        for start in range(0, len(chips), step):
            batch = chips[start : start + step]
            n = len(batch)
            if flip:
                batch = np.concatenate([batch, batch[:, :, ::-1]])
            age, gender = self.session.run(None, {self._input: np.ascontiguousarray(batch)})
            if flip:
                age, gender = (age[:n] + age[n:]) / 2, (gender[:n] + gender[n:]) / 2
            ages.append(age)
            genders.append(gender)
        return np.concatenate(ages), np.concatenate(genders)

    def predict(self, chips: np.ndarray, flip: bool | None = None) -> ModelOutput:
        """Age estimate, spread, 90% interval and P(female) for each chip, in one batched pass."""
        probs, p_female = self.distributions(chips, flip)
        mean, std, low, high = summarise(probs, self.temperature, offset=self.age_offset)
        return ModelOutput(mean, std, low, high, p_female.astype(np.float64))
