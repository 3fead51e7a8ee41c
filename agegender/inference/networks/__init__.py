"""Networks that read faces: each owns its crop (`crop(image, detections)`) and gives columns for a batch of crops
(`predict(crops, flip)`). Every module here that defines a `Network` subclass with a name registers it."""

import importlib
import pkgutil

import numpy as np

from ..combiner import N_AGES
from ..detect import Detections

NETWORKS: dict[str, type["Network"]] = {}


class Network:
    """A network with the crop it reads: constructed from its `NetworkSpec` and a thread count."""

    name: str = ""
    mirrors: bool = True  # whether mirror images mean anything to it (flip test-time augmentation)
    columns: tuple[str, ...] = ("age", "p_female")  # what `predict` gives
    crop_key: tuple | None = None  # networks with one key read one crop, made once (None: a crop of its own)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            NETWORKS[cls.name] = cls

    def crop(self, image: np.ndarray, found: Detections) -> dict[str, np.ndarray]:
        """The network's inputs for the faces `found` in an RGB image, as named arrays with one row per face."""
        raise NotImplementedError

    def predict(self, crops: dict[str, np.ndarray], flip: bool = False) -> dict[str, np.ndarray]:
        """Columns for a batch of crops (one row per face); `flip` averages each with its mirror image's."""
        raise NotImplementedError


def concat_crops(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The crops of several images as one batch (each part has the same names)."""
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def crop_all(networks: dict, image: np.ndarray, found: Detections) -> dict[str, dict]:
    """Each network's crops of the faces `found` in an image, by name; made once for networks of one `crop_key`."""
    made, crops = {}, {}
    for name, net in networks.items():
        key = net.crop_key or name
        if key not in made:
            made[key] = net.crop(image, found)
        crops[name] = made[key]
    return crops


def predict_columns(networks: dict, crops: list[dict], flip, combiner) -> dict:
    """Each network's columns for the crops of several images (as the Estimator crops them), one call per network.
    The combiner's `staged` networks read, in turn, only the faces its `stages` give them; their columns are NaN for
    the others."""
    columns = {name: net.predict(concat_crops([c[name] for c in crops]), flip=name in flip)
               for name, net in networks.items() if name not in combiner.staged}
    for name, asked in combiner.stages(columns):
        part = networks[name].predict({k: v[asked] for k, v in concat_crops([c[name] for c in crops]).items()})
        columns[name] = {}
        for key, value in part.items():
            full = np.full((len(asked), *value.shape[1:]), np.nan, np.float64)
            full[asked] = value
            columns[name][key] = full
    return columns


def on_age_grid(probs: np.ndarray) -> np.ndarray:
    """Age class probabilities over whole years from 0 (a class below one year counts as 0) on the 0-100 grid."""
    out = np.zeros((len(probs), N_AGES), np.float64)
    out[:, : probs.shape[1]] = probs
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["N_AGES", "NETWORKS", "Network", "concat_crops", "crop_all", "on_age_grid", "predict_columns"]
