"""The Keras multi-task network: MobileNetV2 backbone, age-distribution and gender heads, losses."""

import keras
from keras import layers, ops

MAX_AGE = 100
N_AGES = MAX_AGE + 1


def build_model(input_size: int = 128, weights=None, dropout: float = 0.3) -> keras.Model:
    """MobileNetV2 (alpha 1.0) on RGB 0-255 input, with heads `age` (softmax over 0-100) and `gender` (P(female)).

    `weights` is a path to ImageNet MobileNetV2 weights in Keras layout, or None for random initialisation.
    """
    inputs = keras.Input((input_size, input_size, 3), name="chip")
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="normalise")(inputs)
    backbone = keras.applications.MobileNetV2(
        input_shape=(input_size, input_size, 3), alpha=1.0, include_top=False, weights=str(weights) if weights else None
    )
    x = backbone(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="drop_features")(x)
    x = layers.Dense(256, use_bias=False, name="shared")(x)
    x = layers.BatchNormalization(name="shared_bn")(x)
    x = layers.ReLU(name="shared_relu")(x)
    x = layers.Dropout(dropout, name="drop_shared")(x)
    age = layers.Dense(N_AGES, activation="softmax", name="age")(x)
    gender = layers.Dense(1, activation="sigmoid", name="gender")(x)
    return keras.Model(inputs, {"age": age, "gender": gender}, name="agegender")


def _expected_age(probs):
    return ops.sum(probs * ops.arange(N_AGES, dtype=probs.dtype), axis=-1)


def _target_distribution(age, dtype):
    """Gaussian label distribution over 0-100 whose width grows with age (labels are noisier for adults)."""
    age = ops.reshape(ops.cast(age, dtype), (-1, 1))
    sigma = 1.0 + 0.07 * age
    grid = ops.arange(N_AGES, dtype=dtype)[None, :]
    logits = -0.5 * ops.square((grid - age) / sigma)
    return ops.softmax(logits, axis=-1)


@keras.saving.register_keras_serializable(package="agegender")
def age_loss(y_true, y_pred):
    """Label-distribution cross-entropy plus an L1 term on the expected age (DLDL-v2 style)."""
    probs = ops.clip(y_pred, 1e-7, 1.0)
    target = _target_distribution(y_true, probs.dtype)
    ce = -ops.sum(target * ops.log(probs), axis=-1)
    l1 = ops.abs(_expected_age(probs) - ops.reshape(ops.cast(y_true, probs.dtype), (-1,)))
    return ce + 0.1 * l1


@keras.saving.register_keras_serializable(package="agegender")
def mae_years(y_true, y_pred):
    """Absolute error of the expected age, in years."""
    return ops.abs(_expected_age(y_pred) - ops.reshape(ops.cast(y_true, y_pred.dtype), (-1,)))
