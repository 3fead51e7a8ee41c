"""Training losses and metrics: label-distribution age loss and gender cross-entropy, each optionally mixed with a
teacher's soft targets (distillation).

Targets come as columns: age `[label, teacher distribution over 0-100 (zeros: none)]`, gender `[label, teacher
P(female) (-1: none)]`, so one batch can mix faces with and without teacher outputs.
"""

import keras
from keras import ops

from .network import N_AGES


def expected_age(probs):
    return ops.sum(probs * ops.arange(N_AGES, dtype=probs.dtype), axis=-1)


def target_distribution(age, dtype):
    """Gaussian label distribution over 0-100 whose width grows with age (labels are noisier for adults)."""
    age = ops.reshape(ops.cast(age, dtype), (-1, 1))
    sigma = 1.0 + 0.07 * age
    grid = ops.arange(N_AGES, dtype=dtype)[None, :]
    return ops.softmax(-0.5 * ops.square((grid - age) / sigma), axis=-1)


def mirror_divergence(probs):
    """Jensen-Shannon divergence between each age distribution and its pair's, half a batch away (a batch of faces
    followed by their mirror images, as `augment.TrainingBatches` gives them with `mirrored`)."""
    pair = ops.roll(probs, ops.shape(probs)[0] // 2, axis=0)
    middle = (probs + pair) / 2
    return 0.5 * ops.sum(probs * ops.log(probs / middle) + pair * ops.log(pair / middle), axis=-1)


@keras.saving.register_keras_serializable(package="agegender")
class AgeLoss(keras.losses.Loss):
    """Cross-entropy against the label distribution, mixed `teacher_weight` with the teacher's where given,
    plus an L1 term on the expected age against the label (DLDL-v2 style); with `mirror_weight`, plus that times
    the `mirror_divergence` of each face's read from its mirror image's (batches must then come in mirror pairs)."""

    def __init__(self, teacher_weight: float = 0.0, mirror_weight: float = 0.0, name: str = "age_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.teacher_weight, self.mirror_weight = teacher_weight, mirror_weight

    def call(self, y_true, y_pred):
        probs = ops.clip(y_pred, 1e-7, 1.0)
        label, teacher = y_true[:, 0], ops.cast(y_true[:, 1:], probs.dtype)
        has_teacher = ops.cast(ops.sum(teacher, axis=-1, keepdims=True) > 0.5, probs.dtype) * self.teacher_weight
        target = (1.0 - has_teacher) * target_distribution(label, probs.dtype) + has_teacher * teacher
        ce = -ops.sum(target * ops.log(probs), axis=-1)
        loss = ce + 0.1 * ops.abs(expected_age(probs) - ops.cast(label, probs.dtype))
        return loss + self.mirror_weight * mirror_divergence(probs) if self.mirror_weight else loss

    def get_config(self):
        return {**super().get_config(), "teacher_weight": self.teacher_weight, "mirror_weight": self.mirror_weight}


@keras.saving.register_keras_serializable(package="agegender")
class GenderLoss(keras.losses.Loss):
    """Binary cross-entropy against the smoothed label, mixed `teacher_weight` with the teacher's P(female)."""

    def __init__(self, teacher_weight: float = 0.0, smoothing: float = 0.05, name: str = "gender_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.teacher_weight, self.smoothing = teacher_weight, smoothing

    def call(self, y_true, y_pred):
        p = ops.clip(ops.reshape(y_pred, (-1,)), 1e-7, 1.0 - 1e-7)
        label = ops.cast(y_true[:, 0], p.dtype) * (1.0 - self.smoothing) + self.smoothing / 2
        teacher = ops.cast(y_true[:, 1], p.dtype)
        mix = ops.cast(teacher >= 0.0, p.dtype) * self.teacher_weight
        target = (1.0 - mix) * label + mix * teacher
        return -(target * ops.log(p) + (1.0 - target) * ops.log(1.0 - p))

    def get_config(self):
        return {**super().get_config(), "teacher_weight": self.teacher_weight, "smoothing": self.smoothing}


@keras.saving.register_keras_serializable(package="agegender")
def mae_years(y_true, y_pred):
    """Absolute error of the expected age against the label, in years."""
    return ops.abs(expected_age(y_pred) - ops.cast(y_true[:, 0], y_pred.dtype))


@keras.saving.register_keras_serializable(package="agegender")
def gender_accuracy(y_true, y_pred):
    """Whether P(female) >= 0.5 matches the label."""
    return ops.cast(ops.equal(ops.reshape(y_pred, (-1,)) >= 0.5, y_true[:, 0] >= 0.5), "float32")
