"""People in video: the face descriptor, appearance in the tracker, scene cuts, people joined from tracks, and the
same people from the Python API, the command line and the webcam's list."""

import csv
import hashlib
import re

import numpy as np
import pytest

from agegender import SAMPLES, FaceTracker, analyze_video, people, read_image
from agegender.apps.batch import VideoJob
from agegender.apps.synthetic import jitter_frames, write_mp4
from agegender.inference.combiner import ModelOutput
from agegender.inference.detect import Detections
from agegender.inference.networks.descriptor import DESCRIPTOR_FILE, distances, shared_descriptor
from agegender.inference.scenes import SceneCuts
from agegender.inference.tracking import SAME_PERSON
from agegender.paths import MODELS
from tests.conftest import HOPPER, run_cli

OBAMA, BIDEN = SAMPLES / "obama_official_portrait.jpg", SAMPLES / "biden_official_portrait.jpg"


def _found(boxes):
    boxes = np.asarray(boxes, np.float32)
    return Detections(boxes, np.ones(len(boxes), np.float32), np.zeros((len(boxes), 5, 2), np.float32), "retinaface")


def _out(n, descriptors=None):
    data = {} if descriptors is None else {"descriptor": np.asarray(descriptors, np.float32)}
    return ModelOutput(np.full(n, 30.0), np.full(n, 3.0), np.full(n, 25.0), np.full(n, 35.0), np.full(n, 0.2),
                       data=data)


def _voted(person) -> bool:
    """The person's gender is one their faces show, the one most show where two thirds do (whatever the model reads
    Hopper as)."""
    shown = [face.gender for _, face in person.sightings]
    most = max(set(shown), key=shown.count)
    return person.gender in shown and (person.gender == most or shown.count(most) <= 2 * len(shown) / 3)


def _ids(tracker, boxes, descriptors=None, cut=False):
    return tracker.update(_found(boxes), _out(len(boxes), descriptors), cut=cut).data["track_id"].tolist()


def test_descriptor_file_is_the_converted_one_and_tells_people_apart(estimator):
    note = (MODELS / "LICENSE.dlib_descriptor").read_text()
    assert hashlib.sha256(DESCRIPTOR_FILE.read_bytes()).hexdigest() in note
    net = shared_descriptor()
    hopper, obama, biden = (read_image(p) for p in (HOPPER, OBAMA, BIDEN))
    smaller = hopper[::2, ::2]  # the same photo at half size
    vectors = [net.predict(net.crop(img, estimator.detect(img)[:1]))["descriptor"][0]
               for img in (hopper, smaller, obama, biden)]
    d = distances(np.stack(vectors), np.stack(vectors))
    assert d[0, 1] < 0.25, d
    assert min(d[0, 2], d[0, 3], d[2, 3]) > SAME_PERSON + 0.1, d


def test_tracker_leaves_a_track_whose_face_changed_and_recognises_a_face_seen_before():
    a, b, a_again = np.zeros((1, 128)), np.zeros((1, 128)), np.zeros((1, 128))
    a[0, 0], b[0, 1], a_again[0, :2] = 1.0, 1.0, (1.0, 0.2)  # a and b 1.41 apart, a and a_again 0.2
    tracker, box = FaceTracker(), [[100, 100, 200, 200]]
    assert _ids(tracker, box, a) == [1]
    assert _ids(tracker, box) == [1]  # not described: the box goes on
    assert _ids(tracker, box, b) == [2]  # another face where the first was
    assert _ids(tracker, box, a_again) == [1]  # the first again, recognised
    assert _ids(tracker, box, cut=True) == [3]  # a cut ends every track; undescribed, the face is new
    assert _ids(tracker, [[300, 100, 400, 200]], b) == [2]  # elsewhere, recognised by its looks


def test_scene_cuts_between_people_not_within_a_shot():
    cuts = SceneCuts()
    hopper = list(jitter_frames(read_image(HOPPER), 12, jitter_px=3.0))
    obama = list(jitter_frames(read_image(OBAMA), 12, jitter_px=3.0))
    found = [cuts(frame) for frame in hopper + obama + hopper]
    assert [i for i, cut in enumerate(found) if cut] == [12, 24]


def test_people_join_tracks_that_look_alike_never_two_seen_together(estimator):
    results = estimator.analyze_batch([HOPPER] * 3 + [OBAMA] * 3 + [HOPPER] * 3, frames=range(9),
                                      tracker=FaceTracker())
    assert [r.faces[0].track_id for r in results] == [1, 1, 1, 2, 2, 2, 1, 1, 1]  # recognised on its return
    found = people(results, fps=10.0)
    assert [(p.person, p.tracks, p.frames) for p in found] == [(1, [1], 6), (2, [2], 3)]
    assert found[1].gender == "male" and _voted(found[0])
    assert [frame for frame, _ in found[0].sightings] == [0, 1, 2, 6, 7, 8]
    strict = FaceTracker(same_person=0.01)  # recognises no one: three tracks, joined afterwards unless strict
    hopper = read_image(HOPPER)
    frames = [hopper, hopper, read_image(OBAMA), read_image(OBAMA), hopper[:, ::-1], hopper[:, ::-1]]
    results = estimator.analyze_batch(frames, frames=range(6), tracker=strict)
    assert [r.faces[0].track_id for r in results] == [1, 1, 2, 2, 3, 3]
    assert [p.tracks for p in people(results, fps=10.0)] == [[1, 3], [2]]
    assert [p.tracks for p in people(results, fps=10.0, same_person=0.01)] == [[1], [2], [3]]


def test_people_vote_leaves_unknown_genders_out():
    from agegender.inference.people import _summary
    from agegender.inference.results import Face

    def face(gender, probability):
        return Face((0, 0, 50, 50), [], 0.9, 30.0, 3.0, 25.0, 35.0, "23-34", gender, probability, 1)

    mixed = _summary("v", 1, [1], [(0, face("female", 0.9)), (1, face("unknown", 0.6)), (2, face("male", 0.7))], 10)
    assert mixed.gender == "female" and mixed.gender_probability == pytest.approx((0.9 + 0.5 + 0.3) / 3)
    assert _summary("v", 1, [1], [(0, face("unknown", 0.55))], 10).gender == "unknown"
    mostly_unknown = [(0, face("unknown", 0.55)), (1, face("unknown", 0.6)), (2, face("male", 0.7))]
    assert _summary("v", 1, [1], mostly_unknown, 10).gender == "unknown"


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory):
    """Hopper, a hard cut to Obama, a hard cut back to Hopper: 15 frames each at 15 fps."""
    hopper, obama = read_image(HOPPER), read_image(OBAMA)
    frames = [*jitter_frames(hopper, 15, seed=1), *jitter_frames(obama, 15, seed=2), *jitter_frames(hopper, 15, seed=3)]
    return write_mp4(frames, tmp_path_factory.mktemp("people") / "interview.mp4", fps=15)


def test_a_video_with_cuts_gives_its_people_and_cuts(estimator, cut_clip):
    job = VideoJob(estimator, cut_clip, "interview.mp4")
    rows = list(job.results())
    assert len(rows) == 45 and job.cuts == [15, 30]
    assert [(p.person, p.frames) for p in job.persons] == [(1, 30), (2, 15)]
    assert job.persons[1].gender == "male" and _voted(job.persons[0])
    assert job.persons[0].first_seconds == 0 and job.persons[0].last_seconds == pytest.approx(44 / 15)
    assert abs(job.persons[1].age - 51) < 12 and job.persons[0].age > 55
    api = people([result for _, result in analyze_video(estimator, cut_clip, "interview.mp4")], fps=15)
    assert [(p.person, p.tracks, p.frames) for p in api] == [(p.person, p.tracks, p.frames) for p in job.persons]


def test_predict_per_person_gives_people_with_their_tracks(cut_clip, tmp_path):
    out = tmp_path / "people.csv"
    run = run_cli("predict", cut_clip, "--every", "2", "--per-person", out, "--out", tmp_path / "rows.csv",
                  "--no-progress")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(out.open()))
    assert [(r["person"], r["frames"]) for r in rows] == [("1", "16"), ("2", "7")] and rows[1]["gender"] == "male"
    assert re.fullmatch(r"\[\d+(, \d+)*\]", rows[0]["tracks"]), rows[0]
    strict = run_cli("predict", cut_clip, "--every", "2", "--same-person", "0.02", "--per-person", out, "--out",
                     tmp_path / "rows.csv", "--no-progress")
    assert strict.returncode == 0 and len(list(csv.DictReader(out.open()))) == 3


def test_webcam_keeps_a_persons_number_when_they_come_back(estimator):
    from agegender.apps.live import LiveAnnotator

    live = LiveAnnotator(estimator)
    hopper, obama = read_image(HOPPER), read_image(OBAMA)
    empty = np.full_like(next(jitter_frames(hopper, 1)), 200)
    shown = []
    for image in [*jitter_frames(hopper, 8), *[empty] * 20, *jitter_frames(obama, 8), *jitter_frames(hopper, 8)]:
        shown.append([f.track_id for f in live._analyse(image)])
    assert shown[:8] == [[1]] * 8 and shown[8:28] == [[]] * 20
    assert shown[28:36] == [[2]] * 8 and shown[36:] == [[1]] * 8
    seen = live.people()
    assert [(p.number, p.sightings) for p in seen] == [(1, 16), (2, 8)] and seen[1].face.gender == "male"
    assert seen[0].thumbnail.shape[0] > 50 and seen[0].seconds > 0
