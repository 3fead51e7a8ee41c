"""Training batches in NumPy and OpenCV (a `keras.utils.PyDataset`), so the same pipeline feeds Keras under
TensorFlow on the CPU and under JAX on an accelerator: cached chips with run-time-like and image-quality
augmentation, and the plain (un-augmented) arrays used for validation and finalizing."""

import math
import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import keras
import numpy as np

from .degrade import random_quality

_LUMA = np.array([0.2989, 0.5870, 0.1140], np.float32)


def _affine(rng: np.random.Generator, cache_size: int, out_size: int) -> np.ndarray:
    """An output->input affine map [2, 3]: flip, zoom, aspect, small rotation and shift around the chip centre."""
    k = cache_size / out_size
    zoom = math.exp(rng.uniform(math.log(0.87), math.log(1.15)))
    aspect = math.exp(rng.uniform(-0.05, 0.05))
    theta = math.radians(rng.uniform(-12.0, 12.0))
    flip = -1.0 if rng.random() < 0.5 else 1.0
    shift = rng.uniform(-0.06, 0.06, 2) * cache_size
    sx, sy = k * flip * aspect / zoom, k / (aspect * zoom)
    a0, a1 = math.cos(theta) * sx, -math.sin(theta) * sy
    b0, b1 = math.sin(theta) * sx, math.cos(theta) * sy
    c_out, c_in = (out_size - 1) / 2, (cache_size - 1) / 2
    a2 = c_in + shift[0] - (a0 + a1) * c_out
    b2 = c_in + shift[1] - (b0 + b1) * c_out
    return np.array([[a0, a1, a2], [b0, b1, b2]])


def _photometric(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Saturation, contrast and brightness jitter on a float32 0-255 batch, in place."""
    n = len(images)

    def per_image(lo, hi):
        return rng.uniform(lo, hi, (n, 1, 1, 1)).astype(np.float32)

    gray = (images @ _LUMA)[..., None]
    images -= gray
    images *= per_image(0.6, 1.4)
    images += gray
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    images -= mean
    images *= per_image(0.7, 1.3)
    images += mean + per_image(-25.0, 25.0)
    return np.clip(images, 0.0, 255.0, out=images)


def target_columns(ages, genders, weights=None, teacher: dict | None = None):
    """({age, gender} target columns, {age, gender} sample weights) for the loss functions in `losses`.

    A missing label (NaN) gets weight 0. `teacher` ({"age": [N, 101], "p_female": [N]}, NaN where absent)
    adds soft targets; `weights` defaults to 1.
    """
    n = len(ages)
    weights = np.ones(n, np.float32) if weights is None else weights
    teacher_age = np.zeros((n, 101), np.float32) if teacher is None else np.nan_to_num(teacher["age"])
    teacher_female = np.full(n, -1.0, np.float32) if teacher is None else np.nan_to_num(teacher["p_female"], nan=-1.0)
    labels = {
        "age": np.hstack([np.nan_to_num(ages)[:, None], teacher_age]).astype(np.float32),
        "gender": np.stack([np.nan_to_num(genders), teacher_female], axis=1).astype(np.float32),
    }
    sample_weights = {
        "age": np.where(np.isnan(ages), 0.0, weights).astype(np.float32),
        "gender": np.where(np.isnan(genders), 0.0, weights).astype(np.float32),
    }
    return labels, sample_weights


def resize_chips(chips: np.ndarray, out_size: int) -> np.ndarray:
    """Whole chips resized (bilinear, as the un-augmented warp) to [N, out_size, out_size, 3] uint8."""
    return np.stack([cv2.resize(np.asarray(c), (out_size, out_size), interpolation=cv2.INTER_LINEAR) for c in chips])


class TrainingBatches(keras.utils.PyDataset):
    """Augmented batches (chips, target columns, sample weights), reshuffled every epoch; a partial last batch is
    dropped, so every batch has one shape.

    `chips` are whole aligned chips at any square size; each is warped to out_size x out_size. Augmentation is
    image quality (`degrade.random_quality`, for a `quality_rate` share of the chips; the others stay clean),
    then geometric (as a detector's crop varies) and photometric. A batch's random draws depend only on the
    seed, the epoch and the batch's number, so worker threads give the same batches in any order. With `mirrored`,
    a batch is half as many faces followed by the same augmented faces mirrored (`mirror_pairs`), so an epoch
    takes as many steps and sees each face half as often.
    """

    def __init__(self, chips, ages, genders, weights, out_size: int, batch_size: int, seed: int = 0,
                 teacher: dict | None = None, quality_rate: float = 0.6, workers: int = 2, mirrored: bool = False):
        super().__init__(workers=workers, max_queue_size=8)
        self.chips, self.out_size, self.batch_size = chips, out_size, min(batch_size, len(chips))
        self.seed, self.quality_rate, self.epoch, self.mirrored = seed, quality_rate, 0, mirrored
        self.labels, self.weights = target_columns(ages, genders, weights, teacher)
        self._shuffle()

    def _shuffle(self):
        self.order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.chips))

    @property
    def num_batches(self) -> int:
        return len(self.chips) // self.batch_size

    def __getitem__(self, k: int):
        faces = self.batch_size // 2 if self.mirrored else self.batch_size
        index = np.sort(self.order[k * faces:(k + 1) * faces])
        rng = np.random.default_rng([self.seed, self.epoch, k])
        size, cache_size = self.out_size, self.chips.shape[1]
        images = np.empty((len(index), size, size, 3), np.float32)
        for j, i in enumerate(index):
            chip = np.asarray(self.chips[i])
            if rng.random() < self.quality_rate:
                chip = random_quality(chip, rng)
            images[j] = cv2.warpAffine(
                chip, _affine(rng, cache_size, size), (size, size),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT,
            )
        labels = {name: column[index] for name, column in self.labels.items()}
        weights = {name: column[index] for name, column in self.weights.items()}
        batch = (_photometric(images, rng), labels, weights)
        return mirror_pairs(*batch) if self.mirrored else batch

    def on_epoch_end(self):
        self.epoch += 1
        self._shuffle()

    def measured_rate(self, batches: int = 48) -> float:
        """Chips per second that this dataset's worker threads augment (a short timed run over its first batches)."""
        count = min(batches, self.num_batches)
        started = time.perf_counter()
        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(self.__getitem__, range(count)))
        return count * self.batch_size / (time.perf_counter() - started)


def mirror_pairs(images: np.ndarray, labels: dict, weights: dict, faces: int | None = None):
    """A batch followed by its mirror images, with the same targets and weights (pairs half a batch apart); with
    `faces`, each run of that many faces followed by its mirror images, for reading in batches of twice that many."""
    step = faces or max(len(images), 1)
    runs = [slice(i, i + step) for i in range(0, len(images), step)]

    def paired(rows, mirror=False):
        parts = []
        for run in runs:
            parts += [rows[run], rows[run][:, :, ::-1] if mirror else rows[run]]
        return np.concatenate(parts)

    return paired(images, True), {k: paired(v) for k, v in labels.items()}, {k: paired(v) for k, v in weights.items()}


def balancing_weights(ages: np.ndarray, power: float = 0.5, bin_years: int = 5) -> np.ndarray:
    """Per-sample weights ∝ (frequency of the sample's age bin)^-power, mean 1, clipped to [0.3, 4]."""
    valid = ~np.isnan(ages)
    bins = (np.clip(np.nan_to_num(ages), 0, 100) // bin_years).astype(int)
    counts = np.bincount(bins[valid], minlength=bins.max() + 1).astype(float)
    w = np.where(valid, np.maximum(counts[bins], 1.0) ** -power, 1.0)
    w = np.clip(w / w[valid].mean() if valid.any() else w, 0.3, 4.0)
    return (w / w.mean()).astype(np.float32)
