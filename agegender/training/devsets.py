"""The labelled sets models are chosen and checked on, every network's outputs on them (cached per network file),
and each set as the combiner takes it (`DevData`).

Development sets (the combiner is fitted on these; figures on them are reported out of fold): UTKFace dev as photos,
UTKFace dev chips under every degradation of the robustness suite, and `offdomain_dev`'s London portraits, LFW news
photos and FairFace photos. Test sets (never fitted on): UTKFace test as photos and as degraded chips.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..paths import cache_dir, data_root
from .dataset import LabelledFaces, read_labels, utkface
from .degrade import SUITE
from .network_outputs import LABELLED_FACE, flipped_columns, network_outputs

FAIRFACE_GROUPS = ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+")
FAIRFACE_EDGES = np.array([3, 10, 20, 30, 40, 50, 60, 70], np.float64)
_LOW = np.r_[0.0, FAIRFACE_EDGES]
_HIGH = np.r_[FAIRFACE_EDGES, np.inf]


@dataclass(frozen=True)
class SetSpec:
    """Where a labelled set comes from and how its faces are found (`photos` or `chips` under `degradations`)."""

    name: str
    mode: str = "photos"
    degradations: tuple = ("none",)
    development: bool = True


SETS = {s.name: s for s in (
    SetSpec("utk_dev"),
    SetSpec("utk_dev_degraded", "chips", tuple(SUITE)),
    SetSpec("london"),
    SetSpec("lfw"),
    SetSpec("fairface"),
    SetSpec("utk_test", development=False),
    SetSpec("utk_test_degraded", "chips", tuple(SUITE), development=False),
)}
DEVELOPMENT = tuple(name for name, s in SETS.items() if s.development)


def faces_of(name: str, root=None) -> LabelledFaces:
    """The labelled faces of a set by name (datasets under `root`, default $AGEGENDER_DATA)."""
    root = Path(root) if root else data_root()
    if name.startswith("utk_"):
        return utkface(name.split("_")[1], root / "utkface")
    folder = {"fairface": "fairface540"}.get(name, name)
    return read_labels(root / "offdomain_dev" / folder / "labels.csv")


def fairface_group(ages) -> np.ndarray:
    """Index into FAIRFACE_GROUPS of each age."""
    return np.searchsorted(FAIRFACE_EDGES, np.asarray(ages, np.float64), side="right")


def cache_key(net) -> str:
    """What a network's cached outputs depend on: its files, the columns it gives, and a fitted gender head where
    it has one."""
    spec = net.spec
    columns = hashlib.sha256(" ".join(net.columns).encode()).hexdigest()[:6]
    key = "-".join(sorted(spec.sha256.values()))[:16] + "-" + columns
    head = spec.settings.get("gender_head")
    return key if head is None else f"{key}-{hashlib.sha256(json.dumps(head).encode()).hexdigest()[:8]}"


def outputs(name: str, networks: dict, estimator, root=None) -> dict[str, np.ndarray]:
    """Every network's `network_outputs` on a set, cached per set, network file (SHA-256 in its spec) and, for photos,
    the estimator's detector settings and the rule that picks each photo's labelled face, merged; `faces` is the
    labelled faces of the rows kept (in order)."""
    spec = SETS[name]
    rule = f"-{estimator.detector.key}-{LABELLED_FACE}" if spec.mode == "photos" else ""
    merged: dict[str, np.ndarray] = {}
    for net_name, net in networks.items():
        target = cache_dir() / "outputs" / f"{name}-{net_name}-{cache_key(net)}{rule}.npz"
        if not target.is_file():
            out = network_outputs(faces_of(name, root), {net_name: net}, spec.mode, spec.degradations,
                                  estimator=estimator)
            target.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(target, **out)
        stored = dict(np.load(target))
        if merged and not np.array_equal(merged["index"], stored["index"]):
            raise RuntimeError(f"{target}: found other faces than the other networks' outputs on {name}")
        merged.update(stored)
    merged["faces"] = faces_of(name, root).subset(merged["index"])
    return merged


@dataclass
class DevData:
    """One development set as the combiner sees it: each network's columns and the labels, one row per face."""

    name: str
    columns: dict
    ages: np.ndarray
    groups: np.ndarray  # FairFace group index, -1 where none
    genders: np.ndarray
    persons: np.ndarray
    races: np.ndarray
    degradations: np.ndarray  # the robustness suite's degradation of each row ("none" for photos)

    def rows(self, index) -> "DevData":
        return DevData(self.name, {n: {k: v[index] for k, v in c.items()} for n, c in self.columns.items()},
                       self.ages[index], self.groups[index], self.genders[index], self.persons[index],
                       self.races[index], self.degradations[index])

    def age_loss(self, estimate: np.ndarray) -> np.ndarray:
        """Absolute error, or the distance to the labelled FairFace group; NaN where neither is known."""
        out = np.abs(estimate - self.ages)
        grouped = self.groups >= 0
        g = self.groups[grouped]
        out[grouped] = np.maximum(_LOW[g] - estimate[grouped], 0) + np.maximum(estimate[grouped] - _HIGH[g], 0)
        return out


def dev_data(name: str, outputs: dict, networks, flip=frozenset()) -> DevData:
    """A set's `devsets.outputs` as combiner input, every degradation's rows stacked."""
    faces = outputs["faces"]
    degradations = sorted({key.split("/")[0] for key in outputs if key.count("/") >= 2})
    parts = [flipped_columns(outputs, networks, d, flip) for d in degradations]
    columns = {n: {k: np.concatenate([p[n][k] for p in parts]) for k in parts[0][n]} for n in networks}
    groups = np.array([FAIRFACE_GROUPS.index(g) if g else -1 for g in faces.age_groups])

    def tiled(values):
        return np.tile(np.asarray(values), len(degradations))

    return DevData(name, columns, tiled(faces.ages).astype(np.float64), tiled(groups),
                   tiled(faces.genders).astype(np.float64), tiled(faces.persons), tiled(faces.races),
                   np.repeat(degradations, len(faces.ages)))
