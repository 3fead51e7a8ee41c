"""Every network's raw outputs for the labelled face of each image of a labelled set, clean or degraded: what the
combiner is fitted on, and what the scorecard and the distillation targets are computed from.

Two ways to find the face. `photos`: the image goes through the Estimator's detector, as the whole pipeline does, and
the labelled face is kept (`labelled_face`: labelled photos are crops centred on the person labelled). `chips`: the
image is an aligned 200 px chip (UTKFace); RetinaFace finds its landmarks on the clean chip padded by `PAD` pixels
(where it finds none, the chip's own geometry, RetinaFace's template, stands in), and every degraded copy is cropped
by those same landmarks, so a degradation measures the networks, not the detector.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from ..inference.align import CHIP_SIZE
from ..inference.decode import ImageError, read_image
from ..inference.detect import DETECTORS, Detections, get_detector
from ..inference.networks import concat_crops
from .degrade import SUITE

PAD = 60  # UTKFace chips are padded before detection, so the face is not cut off
LABELLED_FACE = "central"  # the rule `labelled_face` follows, in the names of what is cached from labelled photos
log = logging.getLogger(__name__)


def _pad(chip: np.ndarray) -> np.ndarray:
    return cv2.copyMakeBorder(chip, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)


def labelled_face(found: Detections, shape) -> Detections:
    """The face a labelled photo's label belongs to: of the faces at least half as wide as the widest, the one whose
    box centre is nearest the centre of the image (`shape`). Labelled sets are crops centred on the person labelled
    (FairFace: the face is about the central half), and the largest face is not always theirs: in 10 of FairFace's
    540 development photos and 4 of LFW's 1,013 it is someone else's (a baby in its mother's arms, a taller friend
    at the edge)."""
    centres = (found.boxes[:, :2] + found.boxes[:, 2:]) / 2
    off = np.hypot(centres[:, 0] - shape[1] / 2, centres[:, 1] - shape[0] / 2)
    return found[[int(np.argmin(np.where(found.widths >= found.widths.max() / 2, off, np.inf)))]]


def _chip_detection(chip: np.ndarray, detector) -> Detections | None:
    """The labelled face our detector finds on an aligned chip (padded for it, in the chip's pixels), or None."""
    padded = _pad(chip)
    found = detector.detect(padded)
    if not len(found):
        return None
    f = labelled_face(found, padded.shape)
    return Detections(f.boxes - PAD, f.scores, f.landmarks - PAD, f.detector)


def chip_landmarks(chip: np.ndarray, detector) -> np.ndarray | None:
    """Our detector's 5 landmarks of the labelled face on an aligned chip, or None if it finds none."""
    found = _chip_detection(chip, detector)
    return None if found is None else found.landmarks[0]


def _chip_face(chip: np.ndarray, detector) -> Detections:
    found = _chip_detection(chip, detector)
    if found is None:
        template = DETECTORS[detector.name].chip_template * (chip.shape[0] / CHIP_SIZE)
        box = np.r_[template.min(axis=0) - 20, template.max(axis=0) + 20][None].astype(np.float32)
        return Detections(box, np.zeros(1, np.float32), template[None].astype(np.float32), detector.name)
    return found


def _located(faces, mode: str, estimator=None):
    """(index, image, detections of its labelled face) for each image where a face is found, the messages of the
    unreadable images (also logged), and how many readable photos had no face."""
    detector = get_detector("retinaface", max_side=None) if mode == "chips" else None

    def one(i):
        try:
            image = read_image(faces.paths[i])
        except ImageError as exc:
            log.warning("skipped: %s", exc)
            return str(exc)
        if mode == "chips":
            if image.shape[0] != image.shape[1]:
                raise ImageError(str(faces.paths[i]), f"not a square aligned chip ({image.shape[1]}x{image.shape[0]})")
            return i, image, _chip_face(image, detector)
        found = estimator.detect(image)
        return (i, image, labelled_face(found, image.shape)) if len(found) else None

    with ThreadPoolExecutor(2) as pool:
        items = list(pool.map(one, range(len(faces))))
    located = [item for item in items if isinstance(item, tuple)]
    return located, [item for item in items if isinstance(item, str)], sum(item is None for item in items)


def network_outputs(faces, networks: dict, mode: str = "photos", degradations=("none",), mirror: bool = True,
                    estimator=None, batch: int = 256) -> dict[str, np.ndarray]:
    """Columns for the labelled face of each image where one is found.

    Keys: `index` (row in `faces`), `width` (face width in pixels), `landmarks` [N, 5, 2], `unreadable` (the
    messages of images that could not be read), `undetected` (readable images without a face), and for each
    degradation `d` and network `n`, `d/n/<column>` (e.g. `none/cc0/age` [N, 101], `none/cc0/p_female` [N]), and
    with `mirror` the same for the mirror images under `d/n/mirror/<column>` (flip test-time augmentation
    averages the two).
    `networks` maps names to `Network`s; `estimator` finds faces in `photos` mode.
    """
    if mode not in ("photos", "chips"):
        raise ValueError(f"mode must be 'photos' or 'chips', not {mode!r}")
    if mode == "photos" and degradations != ("none",):
        raise ValueError("degradations apply to aligned chips (mode 'chips') only")
    located, unreadable, undetected = _located(faces, mode, estimator)
    found = [f for _, _, f in located]
    out = {
        "unreadable": np.array(unreadable, str),
        "undetected": np.array(undetected),
        "index": np.array([i for i, _, _ in located], int),
        "width": np.array([float(f.widths[0]) for f in found]),
        "landmarks": np.array([f.landmarks[0] for f in found]).reshape(-1, 5, 2),
    }
    for name in degradations:
        columns: dict[str, list] = {}
        for start in range(0, len(located), batch):
            part = located[start : start + batch]
            images = [SUITE[name](image, np.random.default_rng(i)) for i, image, _ in part]
            if mode == "chips":
                images = [_pad(image) for image in images]
                shifted = [Detections(f.boxes + PAD, f.scores, f.landmarks + PAD, f.detector) for _, _, f in part]
            else:
                shifted = [f for _, _, f in part]
            for net_name, net in networks.items():
                crops = concat_crops([net.crop(image, f) for image, f in zip(images, shifted, strict=True)])
                for key, value in net.predict(crops).items():
                    columns.setdefault(f"{name}/{net_name}/{key}", []).append(value)
                if mirror and net.mirrors:
                    for key, value in net.predict(net.mirrored(crops)).items():
                        columns.setdefault(f"{name}/{net_name}/mirror/{key}", []).append(value)
        out.update({key: np.concatenate(parts) for key, parts in columns.items()})
    return out


def flipped_columns(outputs: dict, networks, degradation: str = "none", flip=frozenset()) -> dict:
    """Each network's columns for one degradation of `network_outputs` (the mirror images averaged in for the
    networks named in `flip`, as `spec.flipped` gives them, where they read mirror images; for the others, their
    mirror images' ages as `mirror_age`, for the combiner's second look), as the combiner takes them."""
    columns = {}
    for name in networks:
        plain = {key.rsplit("/", 1)[1]: value for key, value in outputs.items()
                 if key.startswith(f"{degradation}/{name}/") and key.count("/") == 2}
        if name in flip and f"{degradation}/{name}/mirror/{next(iter(plain))}" in outputs:
            plain = {key: (value + outputs[f"{degradation}/{name}/mirror/{key}"]) / 2 for key, value in plain.items()}
            plain["mirror_age"] = plain["age"]  # read with its mirror images already
        elif f"{degradation}/{name}/mirror/age" in outputs:  # for the combiner's second look
            plain["mirror_age"] = outputs[f"{degradation}/{name}/mirror/age"]
        columns[name] = plain
    return columns


def combined(outputs: dict, combiner, degradation: str = "none", flip=frozenset()):
    """The combiner's output for one degradation of `network_outputs`."""
    return combiner(flipped_columns(outputs, combiner.reads, degradation, flip))
