"""Teachers' soft targets for distillation, computed once and cached (.npz keyed by file name): the CC0 networks'
outputs (`compute_targets`), or the combination's (`training/combine.py`); `load_targets` reads either,
`frontal_for_profiles` gives a pool's turned faces their identity's frontal reads, and `pseudo_labelled` turns an
unlabelled pool with targets into training faces.
"""

import csv
from pathlib import Path

import numpy as np

from ..inference.networks import on_age_grid
from ..inference.networks.cc0 import CC0Networks
from ..inference.spec import NetworkSpec
from ..paths import MODELS, cache_dir
from .dataset import LabelledFaces, align_photos, read_labels
from .network_outputs import network_outputs

CC0_SPEC = MODELS / "cc0.json"


def save_targets(cache, names, age: np.ndarray, p_female: np.ndarray, kind: str) -> Path:
    """Write targets (age distributions [N, 101], P(female) [N]) by file name; `kind` says whose they are."""
    cache = Path(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, names=np.asarray(names), age=age.astype(np.float16),
                        p_female=p_female.astype(np.float16), kind=np.array(kind))
    return cache


def compute_targets(faces: LabelledFaces, cache: Path, spec=CC0_SPEC) -> Path:
    """The CC0 networks' outputs for every chip of a face set (with their mirror images'), NaN where our detector
    finds no face, written to `cache`."""
    out = network_outputs(faces, {"cc0": CC0Networks(NetworkSpec.load(spec))}, mode="chips")
    age = np.full((len(faces), 101), np.nan)
    p_female = np.full(len(faces), np.nan)
    age[out["index"]] = (out["none/cc0/age"] + out["none/cc0/mirror/age"]) / 2
    p_female[out["index"]] = (out["none/cc0/p_female"] + out["none/cc0/mirror/p_female"]) / 2
    return save_targets(cache, [p.name for p in faces.paths], age, p_female, "cc0")


def compute_combined_targets(faces: LabelledFaces, cache: Path, model_spec, serving: str = "combined",
                             mode: str = "chips") -> Path:
    """A serving's combination as the teacher: per face its age mixture (moved by its bias correction, to the
    nearest year) and P(female), every network reading the mirror image too where it means something; NaN where
    no face is found. `mode` is `network_outputs`'s (`photos` for a pool of photos)."""
    from ..inference.combiner import GRID
    from ..inference.estimator import Estimator
    from .network_outputs import flipped_columns

    estimator = Estimator(model_spec, serving=serving)
    combiner = estimator.combiner
    networks = {name: estimator.networks[name] for name in combiner.reads}
    out = network_outputs(faces, networks, mode=mode, estimator=estimator)
    columns = flipped_columns(out, networks, flip={name for name, net in networks.items() if net.mirrors})
    mixture = combiner.mixture(columns)
    shift = np.rint(combiner.age_shift(mixture @ GRID)).astype(int)
    moved = np.array([np.roll(np.pad(row, 101), k)[101:202] for row, k in zip(mixture, shift, strict=True)])
    age = np.full((len(faces), 101), np.nan)
    p_female = np.full(len(faces), np.nan)
    age[out["index"]] = moved / moved.sum(axis=1, keepdims=True)
    p_female[out["index"]] = combiner(columns).p_female
    return save_targets(cache, [p.name for p in faces.paths], age, p_female, f"combination {estimator.version}")


def frontal_for_profiles(labels_csv, cache, out) -> Path:
    """Targets for a pool with poses (`path,identity,pose` CSV) where each photo not `frontal` takes the mean of its
    identity's frontal photos' targets (kept where the identity has none), written to `out`. A teacher reads
    turned faces worse than frontal ones (0.2.7's combination reads a CFP profile 2.2 years younger than the mean of the
    same person's frontal photos, 6.4 years off on average, where frontal photos of one person spread by 4.5), so a
    student is taught to read a person's profile as their face is read from the front."""
    labels_csv = Path(labels_csv)
    faces = read_labels(labels_csv)
    targets = load_targets(faces, cache)
    with open(labels_csv, newline="", encoding="utf-8") as fh:
        pose = np.array([row["pose"] for row in csv.DictReader(fh)])
    identity = np.array(faces.persons)
    read = ~np.isnan(targets["p_female"])
    age, p_female = targets["age"].copy(), targets["p_female"].copy()
    for person in np.unique(identity):
        frontal = (identity == person) & (pose == "frontal") & read
        turned = (identity == person) & (pose != "frontal") & read
        if frontal.any() and turned.any():
            age[turned] = targets["age"][frontal].mean(axis=0)
            p_female[turned] = targets["p_female"][frontal].mean()
    return save_targets(out, [p.name for p in faces.paths], age, p_female, f"{targets['kind']}, profiles from frontal")


def load_targets(faces: LabelledFaces, cache) -> dict[str, np.ndarray]:
    """Cached targets for a face set, by file name: `age` [N, 101] over 0-100 years, `p_female` [N] and `kind`;
    NaN rows for faces the cache does not have. (Older CC0 caches hold the network's 81 classes.)"""
    stored = np.load(cache)
    index = {str(name): i for i, name in enumerate(stored["names"])}
    rows = np.array([index.get(p.name, -1) for p in faces.paths])
    age = stored["age"].astype(np.float64)
    age = on_age_grid(np.nan_to_num(age)) if age.shape[1] != 101 else age
    age = np.where((rows >= 0)[:, None], age[rows], np.nan)
    p_female = np.where(rows >= 0, stored["p_female"][rows].astype(np.float64), np.nan)
    kind = str(stored["kind"]) if "kind" in stored else "cc0"
    return {"age": age, "p_female": p_female, "kind": kind}


# Where the CC0 networks are trusted, measured on UTKFace dev: their age bias is +0.5 y for 18-59 but -7.7 y for 60-80
# and they stop at 80; their gender is 96% right for 18-59 but 68% for children. Elsewhere only the labels count.
TRUSTED_AGE_BELOW = 60.0
TRUSTED_GENDER_FROM = 13.0


def trusted(targets: dict[str, np.ndarray], ages: np.ndarray) -> dict[str, np.ndarray]:
    """The targets, where they are the CC0 networks' only where those are trusted for a face of that (labelled)
    age; a combination's targets are kept everywhere."""
    if targets["kind"] != "cc0":
        return targets
    ages = np.asarray(ages, np.float64)
    age = np.where((ages < TRUSTED_AGE_BELOW)[:, None], targets["age"], np.nan)
    p_female = np.where(ages >= TRUSTED_GENDER_FROM, targets["p_female"], np.nan)
    return {"age": age, "p_female": p_female, "kind": targets["kind"]}


def pseudo_labelled(labels_csv, cache) -> tuple[LabelledFaces, dict[str, np.ndarray]]:
    """An unlabelled pool (`path[,identity]` CSV) as training faces: each photo's labelled face aligned into a chip,
    its age label the targets' expected age and its gender the vote of its person's P(female) (one gender per
    person, `persons` as `read_labels` names them; each photo's own where the CSV names nobody). Photos without
    targets are left out."""
    labels_csv = Path(labels_csv)
    faces = read_labels(labels_csv)
    targets = load_targets(faces, cache)
    identity = np.array(faces.persons)
    keep = np.flatnonzero(~np.isnan(targets["p_female"]))
    faces, identity = faces.subset(keep), identity[keep]
    targets = {"age": targets["age"][keep], "p_female": targets["p_female"][keep], "kind": targets["kind"]}
    vote = {person: float(np.mean(targets["p_female"][identity == person]) >= 0.5) for person in set(identity)}
    faces.ages = (targets["age"] @ np.arange(101)).astype(np.float32)
    faces.genders = np.array([vote[person] for person in identity], np.float32)
    chips, rows = align_photos(faces, cache_dir() / "aligned" / labels_csv.parent.name)
    return chips, {"age": targets["age"][rows], "p_female": targets["p_female"][rows], "kind": targets["kind"]}
