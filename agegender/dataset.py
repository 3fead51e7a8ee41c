"""Labelled face data: a CSV of `path,age,gender[,race]` and its images decoded into arrays."""

import csv
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .imageio import ImageError, read_image
from .paths import cache_dir, data_root

GENDERS = ("male", "female")
_GENDER_CODES = {"male": 0.0, "m": 0.0, "0": 0.0, "female": 1.0, "f": 1.0, "1": 1.0}


@dataclass
class LabelledFaces:
    """Columns of a labelled face set; age and gender are NaN where the row has no label."""

    paths: list[Path]
    ages: np.ndarray
    genders: np.ndarray
    races: list[str]

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, index) -> "LabelledFaces":
        index = np.asarray(index, dtype=int)
        return LabelledFaces(
            [self.paths[i] for i in index], self.ages[index], self.genders[index], [self.races[i] for i in index]
        )


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
    )


def utkface(split: str | None = None, root=None) -> LabelledFaces:
    """The UTKFace chips, optionally one of the fixed splits (train, dev, test)."""
    folder = Path(root) if root else data_root() / "utkface"
    return read_labels(folder / "labels.csv", folder, folder / "splits" / f"{split}.txt" if split else None)


def load_chip(path, size: int) -> np.ndarray:
    """One aligned chip, resized (area interpolation) to size x size RGB uint8."""
    image = read_image(path)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def load_chips(faces: LabelledFaces, size: int, cache: bool = True) -> np.ndarray:
    """All chips of a face set as an [N, size, size, 3] uint8 array, cached on disk by content key."""
    key = hashlib.sha1(("\n".join(map(str, faces.paths)) + f"|{size}").encode()).hexdigest()[:16]
    target = cache_dir() / f"chips-{size}-{key}.npy"
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


__all__ = ["GENDERS", "ImageError", "LabelledFaces", "load_chip", "load_chips", "read_labels", "utkface"]
