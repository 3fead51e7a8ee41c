"""People in a video: its tracks joined by what their faces look like, each person summarised over its sightings."""

from dataclasses import asdict, dataclass, field

import numpy as np

from .groups import age_group
from .networks.descriptor import distances
from .results import Face, ImageResult
from .scenes import iou_matrix
from .tracking import KEPT, SAME_PERSON

BLIP = 3  # analysed frames


@dataclass
class Person:
    """One person in a video: the tracks joined into them, when they were seen, a robust age and a gender vote.

    Age is the median of the per-frame ages and the interval the medians of their bounds; gender is the
    detector-score-weighted mean of P(female) (a face whose gender is "unknown" counts as 0.5), "unknown" too where
    most of the person's faces (by that weight) are. `best_frame` and `best_box` locate the largest sighting;
    `sightings` are (frame number, face) in order.
    """

    source: str
    person: int
    tracks: list[int]
    first_frame: int
    last_frame: int
    first_seconds: float
    last_seconds: float
    frames: int
    age: float
    age_low: float
    age_high: float
    age_group: str
    gender: str
    gender_probability: float
    best_frame: int
    best_box: tuple[float, float, float, float]
    sightings: list[tuple[int, Face]] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict:
        row = {name: value for name, value in asdict(self).items() if name in PERSON_FIELDS}
        for key in ("age", "age_low", "age_high", "first_seconds", "last_seconds"):
            row[key] = round(row[key], 2)
        row["gender_probability"] = round(row["gender_probability"], 4)
        row["best_box"] = [round(v, 1) for v in self.best_box]
        return row


PERSON_FIELDS = tuple(name for name in Person.__dataclass_fields__ if name != "sightings")


def _p_female(face: Face) -> float:
    if face.gender == "unknown":
        return 0.5
    return face.gender_probability if face.gender == "female" else 1 - face.gender_probability


def _summary(source: str, number: int, tracks: list[int], seen: list[tuple[int, Face]], fps: float) -> Person:
    seen = sorted(seen, key=lambda s: s[0])
    frames, faces = [frame for frame, _ in seen], [face for _, face in seen]
    weights = np.array([max(f.detector_score, 1e-3) for f in faces])
    vote = float(np.average([_p_female(f) for f in faces], weights=weights))
    decided = weights[[f.gender != "unknown" for f in faces]].sum() > weights.sum() / 2
    age = float(np.median([f.age for f in faces]))
    best = int(np.argmax([f.width for f in faces]))
    return Person(
        source=source,
        person=number,
        tracks=sorted(tracks),
        first_frame=frames[0],
        last_frame=frames[-1],
        first_seconds=frames[0] / fps,
        last_seconds=frames[-1] / fps,
        frames=len(faces),
        age=age,
        age_low=min(age, float(np.median([f.age_low for f in faces]))),
        age_high=max(age, float(np.median([f.age_high for f in faces]))),
        age_group=age_group(age),
        gender=("female" if vote >= 0.5 else "male") if decided else "unknown",
        gender_probability=max(vote, 1 - vote),
        best_frame=frames[best],
        best_box=faces[best].box,
        sightings=seen,
    )


def join_tracks(frames: dict[int, set], described: dict[int, np.ndarray], same_person: float) -> list[list[int]]:
    """Groups of tracks that are one person: average-linkage clustering of the tracks' descriptors (`described`:
    track -> [N, 128]), joining the closest two groups while they are nearer than `same_person` and were never seen
    in the same frame."""
    tracks = list(frames)
    groups = [[t] for t in tracks]
    d = np.full((len(tracks), len(tracks)), np.inf)
    for i, a in enumerate(tracks):
        for j in range(i + 1, len(tracks)):
            b = tracks[j]
            if a in described and b in described and not frames[a] & frames[b]:
                d[i, j] = d[j, i] = distances(described[a], described[b]).mean()
    alive = list(range(len(groups)))
    while len(alive) > 1:
        sub = d[np.ix_(alive, alive)]
        i, j = divmod(int(np.argmin(sub)), len(alive))
        if sub[i, j] >= same_person:
            break
        a, b = alive[i], alive[j]
        na, nb = len(groups[a]), len(groups[b])
        merged = (d[a] * na + d[b] * nb) / (na + nb)  # average linkage (inf stays inf: never together)
        d[a], d[:, a] = merged, merged
        d[a, a] = np.inf
        groups[a] += groups[b]
        alive.remove(b)
    return [sorted(groups[i]) for i in alive]


def continuations(sightings: dict[int, list[tuple[int, Face]]], order: list[int], tolerant: bool) -> tuple[dict, dict]:
    """Track -> the track its face came from, and track -> the track its face went on in: the nearest face of
    another track in the analysed frame (of `order`) before its first (after its last), if one is near
    (`_nearness`; unless `tolerant`, only an overlapping one)."""
    by_frame: dict[int, list[tuple[int, Face]]] = {}
    for t, seen in sightings.items():
        for frame, face in seen:
            by_frame.setdefault(frame, []).append((t, face))
    after = dict(zip(order, order[1:], strict=False))
    before = {b: a for a, b in after.items()}
    came, went = {}, {}
    for t, seen in sightings.items():
        (first, first_face), (last, last_face) = min(seen, key=_frame), max(seen, key=_frame)
        for found, face, frame in ((came, first_face, before.get(first)), (went, last_face, after.get(last))):
            best = 0.0 if tolerant else 1.0
            for other, other_face in by_frame.get(frame, []):
                if other != t and _nearness(face, other_face) > best:
                    best, found[t] = _nearness(face, other_face), other
    return came, went


def _nearness(a: Face, b: Face) -> float:
    """1 + their overlap for boxes that overlap (IoU 0.3 or more); else, for centres less than the wider box's
    width apart (a face moving fast, or cut by the frame's edge), 1 - that distance over the width; else 0."""
    overlap = float(iou_matrix(np.array([a.box]), np.array([b.box]))[0, 0])
    if overlap >= 0.3:
        return 1 + overlap
    ca, cb = np.add(a.box[:2], a.box[2:]) / 2, np.add(b.box[:2], b.box[2:]) / 2
    return max(0.0, 1 - float(np.hypot(*(ca - cb))) / max(a.width, b.width))


def _frame(sighting: tuple[int, Face]) -> int:
    return sighting[0]


def _attach(groups: list[list[int]], sightings: dict, kept: dict, order: list[int], cuts: set) -> None:
    """Join to another track's group: a track without descriptors, to the track its face went on in (or came
    from); a short one (BLIP sightings at most, left alone by the descriptors) that began no scene, to the track
    it overlapped as it came if it went on in it or vanished."""
    near, overlapping = continuations(sightings, order, True), continuations(sightings, order, False)
    group_of = {t: g for g in groups for t in g}
    for t, seen in sightings.items():
        if len(group_of[t]) > 1:
            continue
        if t not in kept:
            other = near[1].get(t, near[0].get(t))
        elif len(seen) <= BLIP and min(seen, key=_frame)[0] not in cuts:
            came, went = overlapping[0].get(t), overlapping[1].get(t)
            other = came if went in (came, None) else None
        else:
            continue
        if other is not None and group_of[t] is not group_of[other]:
            group_of[other].append(t)
            groups.remove(group_of[t])
            group_of[t] = group_of[other]


def people(results: list[ImageResult], fps: float, same_person: float = SAME_PERSON, cuts=()) -> list[Person]:
    """The people of one video's frame results, numbered from 1 in order of first appearance.

    Tracks whose faces look alike (their descriptors nearer than `same_person` on average, at most KEPT of each
    track's, evenly spaced: lower is stricter) and that were never in the same frame are one person. A track with
    no descriptor (its face never whole in the frame: someone walking in) belongs to the track its face went on
    in, or came from; so does a blip (at most BLIP frames after a sighting of one track, at its place, before
    another or none, and not at a scene cut, of `cuts`: a face in a cross-fade, blurred or half covered, that looked
    like no one).
    """
    sightings: dict[int, list[tuple[int, Face]]] = {}
    described: dict[int, list[np.ndarray]] = {}
    source = next((r.source for r in results), "")
    for result in results:
        for face in result.faces:
            if face.track_id is None:
                continue
            sightings.setdefault(face.track_id, []).append((result.frame or 0, face))
            if face.descriptor is not None:
                described.setdefault(face.track_id, []).append(face.descriptor)
    frames = {t: {frame for frame, _ in seen} for t, seen in sightings.items()}
    kept = {t: np.stack(vectors[:: -(-len(vectors) // KEPT)]) for t, vectors in described.items()}
    groups = join_tracks(frames, kept, same_person)
    _attach(groups, sightings, kept, sorted({result.frame or 0 for result in results}), set(cuts))
    groups.sort(key=lambda g: min(min(frames[t]) for t in g))
    return [
        _summary(source, n, group, [s for t in group for s in sightings[t]], fps)
        for n, group in enumerate(groups, start=1)
    ]
