"""A prepared training run packed small enough to travel to an accelerator machine: the training and dev chips as
WebP at the training cache size, their labels and the training faces' soft targets, in one folder. `python -m
agegender pack` writes one; `train --data PACK` reads it, decoding the chips into the chip cache, so training and
finalizing run there as they do here."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from .augment import resize_chips
from .dataset import LabelledFaces, chip_cache_path, load_chips

MARKER = "pack.json"
SETS = ("train", "dev")


def is_pack(folder) -> bool:
    return (Path(folder) / MARKER).is_file()


def _encode(chip: np.ndarray, quality: int) -> bytes:
    ok, data = cv2.imencode(".webp", cv2.cvtColor(chip, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_WEBP_QUALITY, quality])
    if not ok:
        raise ValueError("WebP encoding failed")
    return data.tobytes()


def _decode(data: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def write_pack(out, train_set: LabelledFaces, dev_set: LabelledFaces, targets: dict | None, info: dict,
               size: int, quality: int = 60) -> dict:
    """Write both sets' chips (`size` px WebP at `quality`), labels and the training targets to `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name, faces in zip(SETS, (train_set, dev_set), strict=True):
        chips = load_chips(faces, size)
        with ThreadPoolExecutor(4) as pool:
            blobs = list(pool.map(lambda c: _encode(np.asarray(c), quality), chips))
        columns = {"names": np.array([p.name for p in faces.paths]), "ages": faces.ages, "genders": faces.genders,
                   "races": np.array(faces.races), "offsets": np.cumsum([0] + [len(b) for b in blobs]),
                   "blob": np.frombuffer(b"".join(blobs), np.uint8)}
        if name == "train" and targets is not None:
            columns.update(target_age=targets["age"].astype(np.float16),
                           target_p_female=targets["p_female"].astype(np.float16))
        np.savez_compressed(out / f"{name}.npz", **columns)
        sizes[name] = len(faces)
    meta = {**info, "chip_size": size, "webp_quality": quality, "faces": sizes,
            "target_kind": targets["kind"] if targets is not None else None}
    (out / MARKER).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def read_pack(folder, input_size: int, scale: float, limit: int | None = None):
    """(train, dev, targets or None, meta) of a pack (the first `limit` faces of each set); its chips decoded into
    the chip cache at the size training asks for (`input_size` x `scale`), so `load_chips` finds them."""
    folder = Path(folder)
    meta = json.loads((folder / MARKER).read_text())
    size = int(round(input_size * scale))
    sets, targets = [], None
    for name in SETS:
        stored = np.load(folder / f"{name}.npz")
        n = min(limit or len(stored["names"]), len(stored["names"]))
        faces = LabelledFaces([folder / name / str(f) for f in stored["names"][:n]], stored["ages"][:n],
                              stored["genders"][:n], [str(r) for r in stored["races"][:n]])
        offsets, blob = stored["offsets"], stored["blob"]
        parts = [blob[offsets[k]:offsets[k + 1]] for k in range(len(faces))]
        with ThreadPoolExecutor(8) as pool:
            chips = np.stack(list(pool.map(_decode, parts)))
        if chips.shape[1] != size:
            chips = resize_chips(chips, size)
        target = chip_cache_path(faces, size)
        target.parent.mkdir(parents=True, exist_ok=True)
        np.save(target, chips)
        if name == "train" and "target_age" in stored:
            targets = {"age": stored["target_age"][:n].astype(np.float64),
                       "p_female": stored["target_p_female"][:n].astype(np.float64), "kind": meta["target_kind"]}
        sets.append(faces)
    return sets[0], sets[1], targets, meta


