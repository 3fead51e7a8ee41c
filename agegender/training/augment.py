"""The tf.data input pipeline: batches of cached chips with run-time-like and image-quality augmentation."""

import math

import numpy as np
import tensorflow as tf

from .degrade import random_quality


def _affine(batch: int, cache_size: int, out_size: int, augment: bool):
    """Output->input projective transforms [B, 8]: flip, zoom, small rotation, shift around the chip centre."""
    k = cache_size / out_size
    if augment:
        zoom = tf.exp(tf.random.uniform([batch], math.log(0.87), math.log(1.15)))
        aspect = tf.exp(tf.random.uniform([batch], -0.05, 0.05))
        theta = tf.random.uniform([batch], -12.0, 12.0) * (math.pi / 180)
        flip = tf.where(tf.random.uniform([batch]) < 0.5, -1.0, 1.0)
        shift = tf.random.uniform([batch, 2], -0.06, 0.06) * cache_size
    else:
        zoom, aspect, theta = tf.ones([batch]), tf.ones([batch]), tf.zeros([batch])
        flip, shift = tf.ones([batch]), tf.zeros([batch, 2])
    sx, sy = k * flip * aspect / zoom, k / (aspect * zoom)
    cos, sin = tf.cos(theta), tf.sin(theta)
    a0, a1 = cos * sx, -sin * sy
    b0, b1 = sin * sx, cos * sy
    c_out, c_in = (out_size - 1) / 2, (cache_size - 1) / 2
    a2 = c_in + shift[:, 0] - (a0 + a1) * c_out
    b2 = c_in + shift[:, 1] - (b0 + b1) * c_out
    zeros = tf.zeros([batch])
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def _photometric(images):
    """Brightness, contrast and saturation jitter on a float 0-255 batch."""
    batch = tf.shape(images)[0]

    def per_image(lo, hi):
        return tf.random.uniform([batch, 1, 1, 1], lo, hi)

    gray = tf.image.rgb_to_grayscale(images)
    images = gray + (images - gray) * per_image(0.6, 1.4)
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    images = mean + (images - mean) * per_image(0.7, 1.3) + per_image(-25.0, 25.0)
    return tf.clip_by_value(images, 0.0, 255.0)


def make_dataset(
    chips: np.ndarray,
    ages: np.ndarray,
    genders: np.ndarray,
    weights: np.ndarray,
    out_size: int,
    batch_size: int,
    augment: bool,
    seed: int = 0,
    shuffle: bool | None = None,
    teacher: dict | None = None,
    quality_rate: float = 0.6,
) -> tf.data.Dataset:
    """(chip batch, {age, gender} target columns, {age, gender} sample weights); a missing label gets weight 0.

    `chips` are whole aligned chips at any square size; each is warped to out_size x out_size. Augmentation
    is geometric (as a detector's crop varies), photometric, and image quality (`degrade.random_quality`, for a
    `quality_rate` share of the chips; the others stay clean).
    `teacher` ({"age": [N, 101], "p_female": [N]}, NaN where absent) adds soft targets (`losses`).
    Order is shuffled each epoch when `shuffle` (default: when augmenting).
    """
    n, cache_size = len(chips), chips.shape[1]
    rng = np.random.default_rng(seed)
    age_w = np.where(np.isnan(ages), 0.0, weights).astype(np.float32)
    gender_w = np.where(np.isnan(genders), 0.0, weights).astype(np.float32)
    teacher_age = np.zeros((n, 101), np.float32) if teacher is None else np.nan_to_num(teacher["age"])
    teacher_female = np.full(n, -1.0, np.float32) if teacher is None else np.nan_to_num(teacher["p_female"], nan=-1.0)
    age_columns = np.hstack([np.nan_to_num(ages)[:, None], teacher_age]).astype(np.float32)
    gender_columns = np.stack([np.nan_to_num(genders), teacher_female], axis=1).astype(np.float32)

    def gather(index):
        images = np.array(chips[np.sort(index)])
        if augment:
            degraded = rng.random(len(images)) < quality_rate
            images = np.stack([random_quality(im, rng) if d else im for im, d in zip(images, degraded, strict=True)])
        return images

    def load(index):
        index = tf.sort(index)
        images = tf.numpy_function(gather, [index], tf.uint8)
        images.set_shape([None, cache_size, cache_size, 3])
        return index, images

    def transform(index, images):
        batch = tf.shape(images)[0]
        images = tf.raw_ops.ImageProjectiveTransformV3(
            images=tf.cast(images, tf.float32),
            transforms=_affine(batch, cache_size, out_size, augment),
            output_shape=[out_size, out_size],
            fill_value=0.0,
            interpolation="BILINEAR",
            fill_mode="REFLECT",
        )
        if augment:
            images = _photometric(images)
        labels = {"age": tf.gather(age_columns, index), "gender": tf.gather(gender_columns, index)}
        sample_weights = {"age": tf.gather(age_w, index), "gender": tf.gather(gender_w, index)}
        return images, labels, sample_weights

    if shuffle is None:
        shuffle = augment
    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(load, num_parallel_calls=1).map(transform, num_parallel_calls=1)
    return ds.prefetch(2)


def balancing_weights(ages: np.ndarray, power: float = 0.5, bin_years: int = 5) -> np.ndarray:
    """Per-sample weights ∝ (frequency of the sample's age bin)^-power, mean 1, clipped to [0.3, 4]."""
    valid = ~np.isnan(ages)
    bins = (np.clip(np.nan_to_num(ages), 0, 100) // bin_years).astype(int)
    counts = np.bincount(bins[valid], minlength=bins.max() + 1).astype(float)
    w = np.where(valid, np.maximum(counts[bins], 1.0) ** -power, 1.0)
    w = np.clip(w / w[valid].mean() if valid.any() else w, 0.3, 4.0)
    return (w / w.mean()).astype(np.float32)
