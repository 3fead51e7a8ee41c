"""People in videos: clips made at run time from the London studio portraits and the sample photos
(bench/people_clips.py; never committed), analysed as `predict --per-person` does (VideoJob).

Per clip: the people in it and the rows given; rows that mix two people (and how many of their sightings are of
someone else); identity switches (a person's sightings moving to another row, in time order); the scene cuts
found against those made; per-person age error against the per-frame rows' error; each person's gender. In the
summary both age errors weigh each person alike (the per-frame error is each person's mean over their frames).
Writes bench/results/video_people.json.
"""

import tempfile
import time
from pathlib import Path

import numpy as np

from agegender import SAME_PERSON, Estimator
from agegender.apps.batch import VideoJob
from agegender.apps.synthetic import write_mp4
from agegender.inference.scenes import iou_matrix
from bench.people_clips import FPS, clips
from bench.report import bench_parser, write_json


def who_is(face, truth) -> str | None:
    """The person in the clip whose face box this detection overlaps most (IoU at least 0.3), if any."""
    if not truth:
        return None
    iou = iou_matrix(np.array([face.box]), np.array([box for _, box in truth]))[0]
    return truth[int(np.argmax(iou))][0] if iou.max() >= 0.3 else None


def evaluate(clip, estimator: Estimator, every: int, same_person: float, folder: Path) -> dict:
    path = write_mp4(clip.frames, folder / f"{clip.name}.mp4", fps=FPS)
    seen = []
    job = VideoJob(estimator, path, clip.name, every, same_person=same_person)
    start = time.perf_counter()
    for _ in job.results(lambda frame, result: seen.append(result)):
        pass
    seconds = time.perf_counter() - start
    row_of = {track: p.person for p in job.persons for track in p.tracks}
    sightings: dict[str, list] = {}  # who -> [(frame, row, face)]
    for result in seen:
        for face in result.faces:
            name = who_is(face, clip.truth[result.frame])
            if name is not None:
                sightings.setdefault(name, []).append((result.frame, row_of[face.track_id], face))
    members: dict[int, dict[str, int]] = {}
    for name, found in sightings.items():
        for _, row, _ in found:
            members.setdefault(row, {}).setdefault(name, 0)
            members[row][name] += 1
    mixed = {row: counts for row, counts in members.items() if len(counts) > 1}
    people, frame_errors = {}, []
    for name, found in sightings.items():
        truth = clip.people[name]
        rows = [row for _, row, _ in found]
        main = max(set(rows), key=rows.count)
        person = next(p for p in job.persons if p.person == main)
        errors = [abs(face.age - truth.age) for _, _, face in found]
        frame_errors += errors
        people[name] = {
            "rows": sorted(set(rows)),
            "switches": int(sum(a != b for a, b in zip(rows, rows[1:], strict=False))),
            "age": truth.age, "person_age": round(person.age, 1),
            "person_age_error": round(abs(person.age - truth.age), 2),
            "frame_age_error": round(float(np.mean(errors)), 2),
            "gender": truth.gender, "person_gender": person.gender,
            "gender_right": person.gender in (truth.gender, "unknown"),
        }
    return {
        "frames": len(clip.frames), "analysed": len(seen), "seconds": round(seconds, 2),
        "faces": sum(len(r.faces) for r in seen),
        "described": sum(f.descriptor is not None for r in seen for f in r.faces),
        "people_expected": len(clip.people), "rows_given": len(job.persons),
        "mixed_rows": len(mixed),
        "mixed_sightings": int(sum(sum(c.values()) - max(c.values()) for c in mixed.values())),
        "identity_switches": int(sum(p["switches"] for p in people.values())),
        "cuts_made": clip.cuts, "cuts_found": job.cuts,
        "person_age_mae": round(float(np.mean([p["person_age_error"] for p in people.values()])), 2),
        "frame_age_mae": round(float(np.mean(frame_errors)), 2), "frame_age_errors": len(frame_errors),
        "genders_right": int(sum(p["gender_right"] for p in people.values())),
        "people": people,
    }


def main() -> None:
    p = bench_parser(__doc__, "video_people")
    p.add_argument("--every", type=int, default=1)
    p.add_argument("--detector", default="auto")
    p.add_argument("--same-person", type=float, default=SAME_PERSON)
    p.add_argument("--singles", type=int, default=24, help="clips of one person turning")
    p.add_argument("--only", help="only clips whose name contains this")
    args = p.parse_args()
    estimator = Estimator(detector=args.detector)
    made = [c for c in clips(args.singles) if not args.only or args.only in c.name]
    result = {"every": args.every, "detector": args.detector, "same_person": args.same_person, "clips": {}}
    with tempfile.TemporaryDirectory() as folder:
        for clip in made:
            r = evaluate(clip, estimator, args.every, args.same_person, Path(folder))
            result["clips"][clip.name] = r
            print(f"{clip.name:>34}: people {r['people_expected']} rows {r['rows_given']} mixed {r['mixed_rows']} "
                  f"switches {r['identity_switches']} cuts {len(r['cuts_made'])}/{len(r['cuts_found'])} age "
                  f"{r['person_age_mae']:.2f} (frames {r['frame_age_mae']:.2f}) genders {r['genders_right']}/"
                  f"{len(r['people'])} ({r['seconds']:.1f} s)", flush=True)
    rows = list(result["clips"].values())
    people = [p for r in rows for p in r["people"].values()]
    singles = [p for name, r in result["clips"].items() if name.startswith("single") for p in r["people"].values()]
    result["summary"] = {
        "clips": len(rows),
        "clips_with_right_people_count": sum(r["rows_given"] == r["people_expected"] for r in rows),
        "mixed_rows": sum(r["mixed_rows"] for r in rows),
        "identity_switches": sum(r["identity_switches"] for r in rows),
        "people": len(people),
        "person_age_mae": round(float(np.mean([p["person_age_error"] for p in people])), 3),
        "frame_age_mae": round(float(np.mean([p["frame_age_error"] for p in people])), 3),  # each person's mean
        "singles_person_age_mae": round(float(np.mean([p["person_age_error"] for p in singles])), 3),
        "singles_frame_age_mae": round(float(np.mean([p["frame_age_error"] for p in singles])), 3),
        "genders_right": sum(p["gender_right"] for p in people),
        "frames_per_second": round(sum(r["analysed"] for r in rows) / sum(r["seconds"] for r in rows), 1),
        "faces_described": round(sum(r["described"] for r in rows) / sum(r["faces"] for r in rows), 3),
    }
    print(result["summary"])
    write_json(args.out, result)


if __name__ == "__main__":
    main()
