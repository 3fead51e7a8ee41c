"""Tracking faces across video frames, by where they are and by what they look like, smoothing their estimates.

A face continues a track when its box overlaps the track's and, where its descriptor was computed, it looks like
the track's face; tracks end at a scene cut. A face that continues no track but looks like one seen before (ended
at a cut, or lost when the person turned away or left) takes that track's number again. The Estimator calls the
tracker between the networks and the results: `look` while each frame's picture is at hand, then `follow` for each
frame in order (the first describes the faces of the whole model batch, in one descriptor network call).
"""

from dataclasses import dataclass, field, replace

import numpy as np

from .combiner import ModelOutput
from .detect import Detections
from .networks import concat_crops
from .networks.descriptor import Descriptor, distances, shared_descriptor
from .scenes import Look, Watcher, iou_matrix

SAME_PERSON = 0.55  # descriptor distance under which two faces are one person (bench/descriptor.py)
KEPT = 32  # descriptors a track keeps (the latest)


def apart(descriptors: np.ndarray, kept: list[np.ndarray]) -> np.ndarray:
    """How far each descriptor [N, 128] is from a set: the mean of its distances to the set's members (average
    linkage: unlike the distance to their mean, as discriminating as a pair's distance, bench/descriptor.py)."""
    return distances(descriptors, np.stack(kept)).mean(axis=1)


_SMOOTHED = ("age", "age_std", "age_low", "age_high", "p_female")


def described(out: ModelOutput, wanted: np.ndarray, descriptors: np.ndarray) -> ModelOutput:
    """`out` with the column `descriptor`: the rows given for the `wanted` faces, NaN for the others."""
    column = np.full((len(out), descriptors.shape[1]), np.nan, np.float32)
    column[wanted] = descriptors
    return replace(out, data={**out.data, "descriptor": column})


@dataclass
class _Track:
    track_id: int
    box: np.ndarray
    state: dict
    female: bool
    seen: int = 0  # the update it was last matched in
    hits: int = 1
    missed: int = 0
    live: bool = True
    kept: list = field(default_factory=list)  # descriptors of its faces, the latest KEPT

    def describe(self, descriptor: np.ndarray) -> None:
        self.kept = [*self.kept[1 - KEPT :], descriptor]


@dataclass
class FaceTracker:
    """Greedy IoU tracker with appearance, scene cuts and exponential smoothing of each track's age and gender.

    A track's estimates are the running mean of its first `1/alpha` frames, then an exponential moving average
    with weight `alpha`. Its gender changes only when the smoothed P(female) crosses 0.5 by more than
    `hysteresis`, so an uncertain face does not flicker. A track unseen for `max_missed` updates ends. Which
    faces are described is the `Watcher`'s choice (`refresh`, `change`, `min_width`); a described face leaves a
    track whose faces it is more than `same_person` + `split_margin` from, and takes up an ended track it is within
    `same_person` of (ended within `memory` updates; None: ever). Given each frame's size, tracks follow a stream
    whose resolution changes (WebRTC lowers it under load).
    """

    iou_threshold: float = 0.3
    alpha: float = 0.1
    max_missed: int = 15
    hysteresis: float = 0.1
    same_person: float = SAME_PERSON
    split_margin: float = 0.05
    refresh: int = 20
    change: float = 0.3
    min_width: float = 24.0
    memory: int | None = None
    threads: int = 0  # the descriptor network's

    def __post_init__(self):
        self.reset()

    def reset(self) -> None:
        self._tracks: list[_Track] = []
        self._next_id, self._size, self._updates = 1, None, 0
        self._watcher = Watcher(self.iou_threshold, self.refresh, self.change, self.min_width)
        self._pending: list[Look] = []

    @property
    def network(self) -> Descriptor:
        """The face descriptor network (one per thread count in a process)."""
        return shared_descriptor(self.threads)

    def look(self, image: np.ndarray, found: Detections, frame: int | None = None) -> Look:
        """The scene-cut test, the faces to describe (`Watcher`) and their crops, for the next frame (`frame`, its
        number) in order, while its picture is at hand."""
        look = self._watcher(image, found, frame)
        look.crops = self.network.crop(image, found[look.wanted])
        self._pending.append(look)
        return look

    def describe(self) -> None:
        """One descriptor network call for the faces that the looks since the last call want described."""
        looks, self._pending = self._pending, []
        if looks:
            rows, start = self.network.predict(concat_crops([look.crops for look in looks]))["descriptor"], 0
            for look in looks:
                look.descriptors, start = rows[start : start + int(look.wanted.sum())], start + int(look.wanted.sum())

    def follow(self, found: Detections, out: ModelOutput, look: Look) -> ModelOutput:
        """`update` for a frame seen by `look`; the faces of every look so far are described first, in one call."""
        if look.descriptors is None:
            self.describe()
        return self.update(found, described(out, look.wanted, look.descriptors), look.size, look.cut)

    @property
    def cuts(self) -> list[int]:
        """The frames that began a new scene."""
        return self._watcher.cuts

    def _resize(self, size) -> None:
        """Rescale the tracks' boxes from the last frame's size to this one's (width, height)."""
        size = (float(size[0]), float(size[1]))
        if self._size is not None and size != self._size:
            factor = np.array([size[0] / self._size[0], size[1] / self._size[1]] * 2)
            for track in self._tracks:
                track.box = track.box * factor
        self._size = size

    def _match(self, live: list[_Track], boxes: np.ndarray) -> dict[int, int]:
        """Track index -> face index: overlapping pairs, tracks seen most recently first, then by overlap (a track
        lost a while ago does not take the face of one seen in the frame before)."""
        if not live or not len(boxes):
            return {}
        iou = iou_matrix(np.stack([t.box for t in live]), boxes)
        missed = np.repeat([t.missed for t in live], iou.shape[1])
        pairs = {}
        for flat in np.lexsort((-iou.ravel(), missed)):
            t, d = divmod(int(flat), iou.shape[1])
            if iou[t, d] >= self.iou_threshold and t not in pairs and d not in pairs.values():
                pairs[t] = d
        return pairs

    def _differs(self, track: _Track, descriptor: np.ndarray) -> bool:
        return bool(track.kept) and apart(descriptor[None], track.kept)[0] > self.same_person + self.split_margin

    def _recognise(self, faces: list[int], descriptors: np.ndarray, taken: set) -> dict[int, _Track]:
        """Tracks not in this frame yet that described faces look like (closest pairs first)."""
        free = [t for t in self._tracks if t.kept and id(t) not in taken]
        if not faces or not free:
            return {}
        d = np.stack([apart(descriptors[faces], t.kept) for t in free], axis=1)
        found: dict[int, _Track] = {}
        for flat in np.argsort(d, axis=None):
            f, t = divmod(int(flat), d.shape[1])
            if d[f, t] >= self.same_person:
                break
            if faces[f] not in found and all(free[t] is not other for other in found.values()):
                found[faces[f]] = free[t]
        return found

    def update(self, found: Detections, out: ModelOutput, size=None, cut: bool = False) -> ModelOutput:
        """This frame's faces (as `found`) with their tracks' smoothed estimates, and columns `track_id` and
        `female` (the gender to show) added; `out.data["descriptor"]` has a row per face (NaN if not described).

        `size` is the frame's (width, height) in the pixels of `found`'s boxes, if known; `cut` ends every track.
        """
        self._updates += 1
        if size is not None:
            self._resize(size)
        if cut:
            for track in self._tracks:
                track.live = False
        n = len(found)
        descriptors = out.data.get("descriptor", np.full((n, 1), np.nan))
        described = ~np.isnan(descriptors[:, 0])
        live = [t for t in self._tracks if t.live]
        pairs, young = {}, {}
        for t, d in self._match(live, found.boxes).items():
            if described[d] and self._differs(live[t], descriptors[d]):
                live[t].live = False  # another face where this track's was
            elif described[d] and not live[t].kept:
                young[d] = live[t]  # described for the first time: maybe someone seen before
            else:
                pairs[d] = live[t]
        unmatched = [d for d in range(n) if d not in pairs and described[d]]
        pairs.update(self._recognise(unmatched, descriptors, {id(t) for t in pairs.values()}))
        for d, track in young.items():
            if d in pairs:  # recognised: that track goes on from here instead
                self._tracks.remove(track)
            else:
                pairs[d] = track
        current = {name: np.asarray(getattr(out, name), np.float64) for name in _SMOOTHED}
        smoothed = {name: values.copy() for name, values in current.items()}
        ids, female = np.zeros(n, dtype=int), current["p_female"] >= 0.5
        for d in range(n):
            track = pairs.get(d)
            if track is None:
                state = {name: float(current[name][d]) for name in _SMOOTHED}
                track = _Track(self._next_id, found.boxes[d].astype(np.float64), state, bool(female[d]), hits=0)
                self._tracks.append(track)
                self._next_id += 1
            track.hits, track.missed, track.live, track.seen = track.hits + 1, 0, True, self._updates
            track.box = found.boxes[d].astype(np.float64)
            if described[d]:
                track.describe(descriptors[d])
            weight = max(self.alpha, 1.0 / track.hits)
            for name in _SMOOTHED:
                track.state[name] += weight * (current[name][d] - track.state[name])
                smoothed[name][d] = track.state[name]
            if abs(track.state["p_female"] - 0.5) > self.hysteresis:
                track.female = bool(track.state["p_female"] > 0.5)
            ids[d], female[d] = track.track_id, track.female
        self._forget()
        return ModelOutput(**smoothed, data={**out.data, "track_id": ids, "female": female})

    def _forget(self) -> None:
        """Count misses; end tracks unseen too long; drop ended tracks that cannot be recognised any more."""
        for track in self._tracks:
            if track.live and track.seen != self._updates:
                track.missed += 1
                track.live = track.missed <= self.max_missed
        self._tracks = [
            t for t in self._tracks
            if t.live or (t.kept and (self.memory is None or self._updates - t.seen <= self.memory))
        ]
