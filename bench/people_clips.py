"""Clips of people for the people benches, made at run time (never committed) from the London studio portraits
(offdomain_dev/london: six poses of each person) and the sample photos: 640x480, 15 fps, the camera drifting.

Every clip knows its truth: for each frame, who is in it and where their face is.
"""

import csv
import json
from dataclasses import dataclass, field

import cv2
import numpy as np

from agegender import SAMPLES, read_image
from agegender.apps.synthetic import head_crops
from agegender.inference.detect import get_detector
from agegender.paths import data_root

FPS, SIZE = 15, (640, 480)
TURN = ("left_3quarter", "front", "right_3quarter")
POSES = tuple(f"neutral_{turn}" for turn in TURN) + tuple(f"smiling_{turn}" for turn in reversed(TURN))
FADE = 3  # frames of cross-fade between two poses (0.2 s)


@dataclass
class Someone:
    """A person's pictures (by pose), their age and gender, and each picture's face box."""

    name: str
    age: float | None
    gender: str
    pictures: dict[str, np.ndarray]
    boxes: dict[str, np.ndarray]


@dataclass
class Clip:
    name: str
    frames: list[np.ndarray] = field(default_factory=list)
    truth: list[list[tuple[str, np.ndarray]]] = field(default_factory=list)  # per frame: (who, face box)
    people: dict[str, Someone] = field(default_factory=dict)
    cuts: list[int] = field(default_factory=list)  # frames that begin a new shot


def london() -> list[Someone]:
    """The London set's people with an age, each with their six poses."""
    root, detector = data_root() / "offdomain_dev" / "london", get_detector("retinaface", max_side=None)
    by_id: dict[str, dict] = {}
    for row in csv.DictReader(open(root / "labels.csv")):
        by_id.setdefault(row["face_id"], {})[row["pose"]] = row
    people = []
    for face_id, rows in sorted(by_id.items()):
        if not rows["neutral_front"]["age"]:
            continue
        pictures = {pose: read_image(root / rows[pose]["path"]) for pose in POSES}
        boxes = {pose: detector.detect(image).boxes[0] for pose, image in pictures.items()}
        people.append(Someone(f"london_{face_id}", float(rows["neutral_front"]["age"]),
                              rows["neutral_front"]["gender"], pictures, boxes))
    return people


def samples() -> list[Someone]:
    """The sample photos as people of one picture each (a head-and-shoulders crop), with their known facts."""
    detector = get_detector("retinaface", max_side=None)
    known = json.loads((SAMPLES / "known.json").read_text())
    people = []
    for name, facts in known.items():
        image = read_image(SAMPLES / name)
        (crop,) = head_crops([image], [detector.detect(image).boxes[0]], margin=1.2)
        people.append(Someone(name, float(facts["age"]), facts["gender"], {"front": crop},
                              {"front": detector.detect(crop).boxes[0]}))
    return people


class Camera:
    """A slow drift (a few per cent of the frame) and zoom, the same function of time in every clip."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.phase = self.rng.uniform(0, 2 * np.pi, 3)

    def __call__(self, t: float) -> tuple[float, float, float]:
        dx = 18 * np.sin(2 * np.pi * t / 5.0 + self.phase[0]) + self.rng.normal(0, 0.7)
        dy = 10 * np.sin(2 * np.pi * t / 7.0 + self.phase[1]) + self.rng.normal(0, 0.7)
        return dx, dy, 1 + 0.04 * np.sin(2 * np.pi * t / 6.0 + self.phase[2])


def _placement(picture: np.ndarray, centre, height: float, drift) -> np.ndarray:
    """The 2x3 map of a picture scaled to `height` frame pixels with its centre at `centre`, moved by the camera."""
    dx, dy, zoom = drift
    s = height / picture.shape[0] * zoom
    cx, cy = (centre[0] - SIZE[0] / 2) * zoom + SIZE[0] / 2 + dx, (centre[1] - SIZE[1] / 2) * zoom + SIZE[1] / 2 + dy
    return np.array([[s, 0, cx - s * picture.shape[1] / 2], [0, s, cy - s * picture.shape[0] / 2]])


def _box(box: np.ndarray, m: np.ndarray) -> np.ndarray:
    corners = np.array([[box[0], box[1], 1], [box[2], box[3], 1]]) @ m.T
    return corners.ravel()


def render(layers: list[tuple[Someone, np.ndarray, str, np.ndarray]], full: bool) -> tuple[np.ndarray, list]:
    """A frame from (who, picture, pose, map) layers, the last on top: one filling the frame (`full`, the studio's
    background continued at the edges), or cut-outs on the studio's grey; and who is where in it."""
    if full:
        who, picture, pose, m = layers[0]
        frame = cv2.warpAffine(picture, m, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return frame, [(who.name, _box(who.boxes[pose], m))]
    frame = np.full((SIZE[1], SIZE[0], 3), (196, 198, 200), np.uint8)
    truth = []
    for who, picture, pose, m in layers:
        warped = cv2.warpAffine(picture, m, SIZE, flags=cv2.INTER_LINEAR)
        mask = cv2.warpAffine(np.ones(picture.shape[:2], np.uint8), m, SIZE, flags=cv2.INTER_NEAREST) > 0
        frame[mask] = warped[mask]
        box = _box(who.boxes[pose], m)
        truth = [(name, b) for name, b in truth if not _covered(b, mask)] + [(who.name, box)]
    return frame, [(name, box) for name, box in truth if 0 <= (box[0] + box[2]) / 2 < SIZE[0]]


def _covered(box: np.ndarray, mask: np.ndarray) -> bool:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    region = mask[max(0, y1) : max(0, y2), max(0, x1) : max(0, x2)]
    return region.size > 0 and region.mean() > 0.3


def turning(who: Someone, poses: tuple[str, ...], seconds: float = 1.0) -> list[tuple[np.ndarray, str]]:
    """(picture, pose) per frame: each pose for `seconds`, cross-fading into the next over FADE frames."""
    per = int(round(seconds * FPS))
    out = []
    for k, pose in enumerate(poses):
        for i in range(per):
            nxt = poses[k + 1] if k + 1 < len(poses) else None
            a = (i - (per - FADE)) / FADE if nxt and i >= per - FADE else 0.0
            picture = who.pictures[pose] if a <= 0 else cv2.addWeighted(
                who.pictures[pose], 1 - a, who.pictures[nxt], a, 0)
            out.append((picture, pose if a < 0.5 else nxt))
    return out


def _add(clip: Clip, camera: Camera, layers_at, n: int, full: bool = True) -> None:
    for i in range(n):
        t = len(clip.frames) / FPS
        frame, truth = render(layers_at(i, camera(t)), full)
        clip.frames.append(frame)
        clip.truth.append(truth)


def _centre_height(who: Someone) -> tuple[tuple[float, float], float]:
    return (SIZE[0] / 2, SIZE[1] / 2), SIZE[1] * 1.0 if len(who.pictures) > 1 else SIZE[1] * 0.95


def shots(name: str, people: list[Someone], order: list[int], seconds: float, seed: int) -> Clip:
    """Hard cuts between people in the same framing (an interview, a compilation): each shot `seconds` long, the
    person turning through as many poses as fit."""
    clip, camera = Clip(name, people={p.name: p for p in people}), Camera(seed)
    for k in order:
        if clip.frames:
            clip.cuts.append(len(clip.frames))
        who = people[k]
        poses = POSES[k % 2 * 3 : k % 2 * 3 + 3] if len(who.pictures) > 1 else ("front",)
        frames = turning(who, poses, seconds / len(poses))
        centre, height = _centre_height(who)
        _add(clip, camera, lambda i, d, w=who, f=frames, c=centre, h=height: [(w, f[i][0], f[i][1],
             _placement(f[i][0], c, h, d))], len(frames))
    return clip


def single(who: Someone, seed: int) -> Clip:
    """One person turning 3/4 left, front, 3/4 right, then smiling and back, a second per pose."""
    clip, camera = Clip(f"single_{who.name}", people={who.name: who}), Camera(seed)
    frames = turning(who, POSES)
    centre, height = _centre_height(who)
    _add(clip, camera, lambda i, d: [(who, frames[i][0], frames[i][1], _placement(frames[i][0], centre, height, d))],
         len(frames))
    return clip


def leaves_and_returns(who: Someone, seed: int) -> Clip:
    """Turning for 2 s, walking out to the right (1 s), 2 s of empty studio, walking back in (1 s), 2 s more."""
    clip, camera = Clip(f"return_{who.name}", people={who.name: who}), Camera(seed)
    (cx, cy), height = _centre_height(who)
    before, after = turning(who, POSES[:2]), turning(who, POSES[3:5])
    walk = FPS  # a second to walk out of the frame, and back in
    out_x = SIZE[0] + height * 0.6  # the whole picture beyond the right edge
    path = [(before[i][0], before[i][1], cx) for i in range(len(before))]
    path += [(before[-1][0], before[-1][1], cx + (out_x - cx) * (i + 1) / walk) for i in range(walk)]
    path += [(before[-1][0], before[-1][1], out_x)] * (2 * FPS)
    path += [(after[0][0], after[0][1], out_x - (out_x - cx) * (i + 1) / walk) for i in range(walk)]
    path += [(p, pose, cx) for p, pose in after]
    _add(clip, camera, lambda i, d: [(who, path[i][0], path[i][1], _placement(path[i][0], (path[i][2], cy),
                                                                                height, d))], len(path), full=False)
    return clip


def swap(a: Someone, b: Someone, seed: int) -> Clip:
    """Two people side by side (1.5 s) who swap places (1.5 s, the first passing in front), then 1.5 s more."""
    clip, camera = Clip(f"swap_{a.name}_{b.name}", people={a.name: a, b.name: b}), Camera(seed)
    left, right, cy, height = SIZE[0] * 0.27, SIZE[0] * 0.73, SIZE[1] * 0.55, SIZE[1] * 0.62
    hold, cross = int(1.5 * FPS), int(1.5 * FPS)
    xs = [(left, right)] * hold
    xs += [(left + (right - left) * (i + 1) / cross, right - (right - left) * (i + 1) / cross) for i in range(cross)]
    xs += [(right, left)] * hold
    pa, pb = turning(a, POSES[1:2] + POSES[4:5], 2.25), turning(b, POSES[4:5] + POSES[1:2], 2.25)
    _add(clip, camera, lambda i, d: [
        (b, pb[i][0], pb[i][1], _placement(pb[i][0], (xs[i][1], cy), height, d)),
        (a, pa[i][0], pa[i][1], _placement(pa[i][0], (xs[i][0], cy), height, d)),
    ], len(xs), full=False)
    return clip


def clips(n_single: int = 24) -> list[Clip]:
    """The test set: single people turning; hard cuts between two (A-B-A) and three people; a person who leaves
    for two seconds and comes back; two people who swap places; the sample photos one after another."""
    people = london()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(people))
    made = [single(people[i], seed=k) for k, i in enumerate(order[:n_single])]
    trios = [order[k : k + 3] for k in range(0, 18, 3)]
    for k, trio in enumerate(trios):
        group = [people[i] for i in trio]
        if k % 2:
            made.append(shots(f"cuts3_{k}", group, [0, 1, 2], 2.0, seed=100 + k))
        else:
            made.append(shots(f"cuts2_{k}", group[:2], [0, 1, 0], 2.0, seed=100 + k))
    made += [leaves_and_returns(people[i], seed=200 + k) for k, i in enumerate(order[30:32])]
    made += [swap(people[order[40 + 2 * k]], people[order[41 + 2 * k]], seed=300 + k) for k in range(2)]
    made.append(shots("samples", samples(), [0, 1, 2, 3, 4], 1.5, seed=400))
    return made
