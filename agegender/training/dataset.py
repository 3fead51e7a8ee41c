"""Labelled face data: a CSV of `path,age,gender[,race]` and its images decoded into arrays."""

import csv
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..inference.decode import ImageError, read_image
from ..paths import cache_dir, data_root

log = logging.getLogger(__name__)
GENDERS = ("male", "female")
_GENDER_CODES = {"male": 0.0, "m": 0.0, "0": 0.0, "female": 1.0, "f": 1.0, "1": 1.0}


@dataclass
class LabelledFaces:
    """Columns of a labelled face set; age and gender are NaN where the row has no label. `persons` names who each
    face is (a CSV's `face_id` or `identity`; the path where there is none), `age_groups` a labelled age group
    ("" where none: FairFace gives groups, not ages)."""

    paths: list[Path]
    ages: np.ndarray
    genders: np.ndarray
    races: list[str]
    persons: list[str] = field(default_factory=list)
    age_groups: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.persons = self.persons or [str(p) for p in self.paths]
        self.age_groups = self.age_groups or [""] * len(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __add__(self, other: "LabelledFaces") -> "LabelledFaces":
        return LabelledFaces(self.paths + other.paths, np.concatenate([self.ages, other.ages]),
                             np.concatenate([self.genders, other.genders]), self.races + other.races,
                             self.persons + other.persons, self.age_groups + other.age_groups)

    def subset(self, index) -> "LabelledFaces":
        index = np.asarray(index, dtype=int)
        return LabelledFaces([self.paths[i] for i in index], self.ages[index], self.genders[index],
                             [self.races[i] for i in index], [self.persons[i] for i in index],
                             [self.age_groups[i] for i in index])


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def read_labels(csv_path, root=None, split=None) -> LabelledFaces:
    """Read `path,age,gender[,race]` rows; paths are relative to `root` (default: the CSV's folder).

    `split` is an optional text file of paths, one a line, that selects and orders the rows.
    Gender is `male`/`female` (or m/f, 0/1); empty ages or genders become NaN.
    """
    csv_path = Path(csv_path)
    root = Path(root) if root else csv_path.parent
    with open(csv_path, newline="", encoding="utf-8") as fh:
        selected = list(csv.DictReader(fh))
    if split:
        by_path = {row["path"]: row for row in selected}
        wanted = [line.rstrip("\n") for line in open(split, encoding="utf-8") if line.strip()]
        missing = [p for p in wanted if p not in by_path]
        if missing:
            raise ValueError(f"{split}: {len(missing)} paths not in {csv_path}, e.g. {missing[0]}")
        selected = [by_path[p] for p in wanted]
    return LabelledFaces(
        paths=[root / row["path"] for row in selected],
        ages=np.array([_number(row.get("age", "")) for row in selected], dtype=np.float32),
        genders=np.array(
            [_GENDER_CODES.get((row.get("gender") or "").strip().lower(), np.nan) for row in selected],
            dtype=np.float32,
        ),
        races=[(row.get("race") or "").strip() for row in selected],
        persons=[row.get("face_id") or row.get("identity") or row["path"] for row in selected],
        age_groups=[(row.get("age_group") or "").strip() for row in selected],
    )


def utkface(split: str | None = None, root=None) -> LabelledFaces:
    """The UTKFace chips, optionally one of the fixed splits (train, dev, test)."""
    folder = Path(root) if root else data_root() / "utkface"
    return read_labels(folder / "labels.csv", folder, folder / "splits" / f"{split}.txt" if split else None)


def seeded_split(faces: LabelledFaces, dev_fraction: float = 0.1, seed: int = 0):
    """A reproducible (train, dev) split of a face set without split files; dev gets at least one face."""
    order = np.random.default_rng(seed).permutation(len(faces))
    n_dev = min(max(1, round(len(faces) * dev_fraction)), len(faces) - 1)
    return faces.subset(np.sort(order[n_dev:])), faces.subset(np.sort(order[:n_dev]))


def align_photos(faces: LabelledFaces, folder: Path) -> tuple[LabelledFaces, np.ndarray]:
    """The labelled face of each photo (`network_outputs.labelled_face`) aligned onto a 200 px UTKFace-geometry chip,
    as inference aligns faces, and the rows of `faces` kept.

    Chips are written to `folder` (kept between runs, named by the photo's path and the rule that picks its face);
    photos without a readable face are left out, and logged.
    """
    from ..inference.align import CHIP_SIZE, align_faces
    from ..inference.detect import get_detector
    from .network_outputs import LABELLED_FACE, labelled_face

    detector, kept = get_detector(), []

    def chip_path(path) -> Path:
        return folder / (hashlib.sha1(f"{path}|{LABELLED_FACE}".encode()).hexdigest()[:16] + ".png")

    folder.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(faces.paths):
        target = chip_path(path)
        if not target.is_file():
            try:
                image = read_image(path)
            except ImageError as exc:
                log.warning("skipped: %s", exc)
                continue
            found = detector.detect(image)
            if not len(found):
                log.warning("skipped: %s: no face found", path)
                continue
            face = labelled_face(found, image.shape)
            chip = align_faces(image, face.landmarks, CHIP_SIZE, face.chip_template)[0]
            cv2.imwrite(str(target), cv2.cvtColor(chip, cv2.COLOR_RGB2BGR))
        kept.append(i)
    chips = faces.subset(kept)
    chips.paths = [chip_path(faces.paths[i]) for i in kept]
    return chips, np.array(kept, int)


def load_chip(path, size: int) -> np.ndarray:
    """One aligned chip, resized (area interpolation) to size x size RGB uint8."""
    image = read_image(path)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def chip_cache_path(faces: LabelledFaces, size: int) -> Path:
    """Where `load_chips` caches a face set's chips at `size`: keyed by the paths and the size."""
    key = hashlib.sha1(("\n".join(map(str, faces.paths)) + f"|{size}").encode()).hexdigest()[:16]
    return cache_dir() / f"chips-{size}-{key}.npy"


def load_chips(faces: LabelledFaces, size: int, cache: bool = True) -> np.ndarray:
    """All chips of a face set as an [N, size, size, 3] uint8 array, cached on disk by content key."""
    target = chip_cache_path(faces, size)
    if cache and target.is_file():
        return np.load(target, mmap_mode="r")
    with ThreadPoolExecutor(4) as pool:
        chips = np.stack(list(pool.map(lambda p: load_chip(p, size), faces.paths)))
    if cache:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp.npy")
        np.save(tmp, chips)
        tmp.replace(target)
    return chips


__all__ = [
    "GENDERS",
    "ImageError",
    "LabelledFaces",
    "align_photos",
    "chip_cache_path",
    "load_chip",
    "load_chips",
    "read_labels",
    "seeded_split",
    "utkface",
]
