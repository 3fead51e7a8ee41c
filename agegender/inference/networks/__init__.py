"""Networks that read faces: each owns its crop (`crop(image, detections)`) and gives columns for a batch of crops
(`predict(crops, flip)`). Every module here that defines a `Network` subclass with a name registers it."""

import importlib
import pkgutil

import numpy as np

from ..corrections import N_AGES
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

    def mirrored(self, crops: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The crops of the faces' mirror images (every crop an image batch [N, H, W, C])."""
        return {key: value[:, :, ::-1] for key, value in crops.items()}


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


def _for_some(asked: np.ndarray, part: dict) -> dict:
    """Columns read for the `asked` faces only, as full columns: NaN for the others."""
    columns = {}
    for key, value in part.items():
        columns[key] = np.full((len(asked), *value.shape[1:]), np.nan, np.float64)
        columns[key][asked] = value
    return columns


def predict_columns(networks: dict, crops: list[dict], flip, combiner) -> dict:
    """Each network's columns for the crops of several images (as the Estimator crops them), one call per network.
    Then our network reads again, in mirror image, the faces the combiner's `second_look` gives (its `mirror_age`);
    and the combiner's `staged` networks read, in turn, only the faces its `stages` give them. Columns read for some
    faces are NaN for the others."""
    batches = {name: concat_crops([c[name] for c in crops]) for name in networks}
    columns = {name: net.predict(batches[name], flip=name in flip)
               for name, net in networks.items() if name not in combiner.staged}
    if (asked := combiner.second_look(columns)).any():
        ours = networks[combiner.networks[0]]
        if ours.name in flip:  # read with its mirror images already
            columns[ours.name]["mirror_age"] = columns[ours.name]["age"]
        else:
            subset = ours.mirrored({k: v[asked] for k, v in batches[ours.name].items()})
            columns[ours.name]["mirror_age"] = _for_some(asked, {"age": ours.predict(subset)["age"]})["age"]
    for name, asked in combiner.stages(columns):
        columns[name] = _for_some(asked, networks[name].predict({k: v[asked] for k, v in batches[name].items()}))
    return columns


def on_age_grid(probs: np.ndarray) -> np.ndarray:
    """Age class probabilities over whole years from 0 (a class below one year counts as 0) on the 0-100 grid."""
    out = np.zeros((len(probs), N_AGES), np.float64)
    out[:, : probs.shape[1]] = probs
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["N_AGES", "NETWORKS", "Network", "concat_crops", "crop_all", "on_age_grid", "predict_columns"]
