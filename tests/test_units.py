"""Direct tests of the small parts: age groups, tracker, metrics, head yaw, people, the decode gate, degradations."""

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from agegender import DISPLAY_GROUPS, FaceTracker, ImageError, ImageTooLarge, age_group, read_image
from agegender.apps.annotated import annotated_name, unique_name
from agegender.inference.combiner import ModelOutput
from agegender.inference.decode import iter_pictures
from agegender.inference.detect import Detections
from agegender.inference.people import people
from agegender.training.degrade import SUITE, degrade, random_quality
from agegender.training.metrics import compute_metrics, head_yaw, robustness_metrics
from tests.conftest import HOPPER, SAMPLES


def png_declaring(width: int, height: int) -> bytes:
    """A tiny valid PNG header that declares a huge image (a decompression bomb's shape)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(
        b"IEND", b""
    )


def test_age_group_never_contradicts_the_age():
    """The group shown contains the age shown (one decimal), for every age 0-100; the groups are contiguous."""
    for age in np.arange(0, 100.001, 0.001):
        shown = float(f"{age:.1f}")
        group = age_group(age)
        low, _, high = group.replace("+", "-").partition("-")
        assert float(low) <= shown and (not high or shown < float(high) + 1), (age, group)
    assert [age_group(a) for a in (57.6, 21.8, 37.0, 2.96, 2.94)] == ["57+", "14-22", "35-45", "3-6", "0-2"]
    assert len(set(DISPLAY_GROUPS)) == 8


def _found(boxes):
    boxes = np.asarray(boxes, np.float32)
    return Detections(boxes, np.ones(len(boxes), np.float32), np.zeros((len(boxes), 5, 2), np.float32), "retinaface")


def _out(ages, p_female):
    ages = np.asarray(ages, float)
    return ModelOutput(ages, np.full(len(ages), 3.0), ages - 5, ages + 5, np.asarray(p_female, float))


def _update(tracker, found, out, **kwargs):
    """The tracker's output, its track ids and the genders it shows (True = female)."""
    out = tracker.update(found, out, **kwargs)
    return out, out.data["track_id"], out.data["female"]


def test_tracker_keeps_ids_smooths_and_does_not_flicker():
    tracker = FaceTracker(alpha=0.5, hysteresis=0.1)
    boxes = [[10, 10, 60, 60], [200, 10, 250, 60]]
    _, ids, female = _update(tracker, _found(boxes), _out([30, 60], [0.9, 0.2]))
    assert ids.tolist() == [1, 2] and female.tolist() == [True, False]
    shifted = [[12, 11, 62, 61], [203, 12, 253, 62]]
    out, ids, female = _update(tracker, _found(shifted), _out([40, 60], [0.55, 0.45]))
    assert ids.tolist() == [1, 2] and out.age[0] == pytest.approx(35.0)
    assert female.tolist() == [True, False]  # smoothed P(female) 0.725 and 0.325 are beyond the hysteresis
    _, ids, _ = _update(tracker, _found([[400, 300, 450, 350]]), _out([20], [0.5]))
    assert ids.tolist() == [3]


def test_tracker_follows_a_stream_whose_resolution_drops():
    """640x480 -> 480x360, as WebRTC does under load: the same face keeps its track (without sizes it would not)."""
    tracker = FaceTracker(alpha=0.5)
    tracker.update(_found([[280, 40, 390, 175]]), _out([50], [0.1]), size=(640, 480))
    out, ids, _ = _update(tracker, _found([[211, 30, 292, 131]]), _out([60], [0.1]), size=(480, 360))
    assert ids.tolist() == [1] and out.age[0] == pytest.approx(55.0)
    unscaled = FaceTracker()
    unscaled.update(_found([[280, 40, 390, 175]]), _out([50], [0.1]))
    assert _update(unscaled, _found([[211, 30, 292, 131]]), _out([60], [0.1]))[1].tolist() == [2]


def test_compute_metrics_on_known_numbers():
    ages = np.array([5.0, 30.0, 70.0, np.nan])
    genders = np.array([1.0, 0.0, 1.0, 0.0])
    out = _out([7.0, 28.0, 70.0, 40.0], [0.8, 0.3, 0.4, 0.1])
    m = compute_metrics(ages, genders, ["a", "b", "a", ""], out)
    assert m["n_age"] == 3 and m["age_mae"] == pytest.approx(4 / 3) and m["age_bias"] == pytest.approx(0.0)
    assert m["gender_accuracy"] == pytest.approx(0.75) and m["by_race"]["a"]["gender_accuracy"] == 0.5
    assert m["interval90_coverage"] == 1.0 and sum(map(sum, m["age_group_confusion"]["matrix"])) == 3


def test_head_yaw_and_robustness_slices():
    frontal = np.array([[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]], float)
    turned = frontal.copy()
    turned[2, 0] += 14  # nose 14 px right of the midpoint, half eye distance 20
    assert head_yaw(frontal) == pytest.approx(0.0)
    assert head_yaw(turned) == pytest.approx(np.degrees(np.arctan(14 / 20 / 0.7)))
    ages, genders = np.array([8.0, 30.0, 70.0]), np.array([1.0, 0.0, 1.0])
    r = robustness_metrics(ages, genders, _out([10.0, 30.0, 66.0], [0.9, 0.2, 0.3]), [5.0, 20.0, 40.0])
    assert set(r) == {"all", "0-12", "13-59", "60+", "yaw frontal", "yaw 15-30 deg", "yaw over 30 deg"}
    assert r["0-12"]["age_bias"] == 2.0 and r["60+"]["age_bias"] == -4.0 and r["all"]["gender_accuracy_women"] == 0.5


def test_people_aggregate_a_track(estimator):
    results = estimator.analyze_batch([HOPPER] * 5, frames=range(5), tracker=FaceTracker())
    (person,) = people(results, fps=10.0)
    assert person.frames == 5 and person.first_frame == 0 and person.last_seconds == pytest.approx(0.4)
    assert person.age_low <= person.age <= person.age_high
    assert person.age == pytest.approx(np.median([r.faces[0].age for r in results]))


def test_decompression_bomb_refused_from_its_header():
    with pytest.raises(ImageTooLarge, match=r"image too large: 20000 x 15000 = 300 Mpx \(limit 100 Mpx\)"):
        read_image(png_declaring(20000, 15000))
    with pytest.raises(ImageTooLarge, match=r"512 x 600 = 0.307 Mpx \(limit 0.1 Mpx\)"):
        read_image(HOPPER, max_pixels=100_000)


def test_clear_messages_for_none_folders_and_odd_types(estimator, tmp_path):
    results = estimator.analyze_batch([HOPPER, None, tmp_path, 42, b"%PDF-1.4 x", b"<svg xmlns='x'/>"])
    assert [r.status for r in results] == ["ok", "error", "error", "error", "error", "error"]
    messages = [r.error for r in results[1:]]
    assert "None" in messages[0] and "folder" in messages[1] and "type int" in messages[2]
    assert "PDF" in messages[3] and "SVG" in messages[4]


def test_every_page_of_a_tiff():
    pages = [Image.open(HOPPER).convert("RGB"), Image.new("RGB", (300, 200), (9, 9, 9))]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    decoded = list(iter_pictures(buf.getvalue()))
    assert [p.frame for p in decoded] == [0, 1] and decoded[1].pixels.shape == (200, 300, 3)


def test_large_jpeg_decoded_reduced_with_boxes_in_its_own_pixels(estimator):
    big = Image.open(HOPPER).convert("RGB").resize((512 * 18, 600 * 18))
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=80)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # within the gate, not Pillow's alarm (99.5 MP is over its 89 MP warning)
        (picture,) = iter_pictures(buf.getvalue(), max_side=4096)
    assert picture.size == big.size and picture.scale == pytest.approx(0.5, abs=0.01)
    (result,) = estimator.analyze_batch([buf.getvalue()])
    reference = estimator.analyze(HOPPER)[0]
    assert (result.width, result.height) == big.size
    assert np.allclose(result.faces[0].box, np.array(reference.box) * 18, atol=0.05 * 18 * reference.width)


def test_degradations_are_deterministic_and_change_the_chip():
    chips = np.stack([read_image(HOPPER)[100:300, 150:350]] * 2)
    for name in SUITE:
        once, again = degrade(chips, name, seed=3), degrade(chips, name, seed=3)
        assert once.shape == chips.shape and once.dtype == np.uint8 and np.array_equal(once, again), name
        assert name == "none" or not np.array_equal(once, chips), name
    rng = np.random.default_rng(0)
    assert random_quality(chips[0], rng).shape == chips[0].shape


def test_unreadable_image_raises_in_analyze(estimator):
    with pytest.raises(ImageError, match="empty"):
        estimator.analyze(b"")


def test_live_settings_share_the_model_and_search_a_small_copy(estimator):
    from agegender.apps.live import DETECT_SIDE, live_estimator

    live = live_estimator(estimator.with_options(min_face=30))
    assert (live.detector.name, live.detector.max_side, live.flip) == ("retinaface", DETECT_SIDE, frozenset())
    assert live.serving == "live" and "descriptor" not in live.networks and live.min_face == 30
    assert all(net is estimator.networks[name] for name, net in live.networks.items())
    portrait = read_image(HOPPER)
    full, small = estimator.with_options(detector="retinaface").detect(portrait), live.detect(portrait)
    assert len(full) == len(small) == 1
    assert np.abs(full.boxes - small.boxes).max() < 0.05 * (full.boxes[0, 2] - full.boxes[0, 0])


def test_live_callback_never_waits_and_drops_stale_frames(estimator):
    """The WebRTC callback returns each frame at once; the analysis takes the latest frame, never a queue."""
    import time
    from fractions import Fraction

    import av

    from agegender.apps.live import LiveAnnotator
    from agegender.apps.synthetic import jitter_frames

    live = LiveAnnotator(estimator)
    frames = []
    for i, image in enumerate(jitter_frames(read_image(SAMPLES / "obama_official_portrait.jpg"), 40)):
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = i, Fraction(1, 30)
        frames.append(frame)
    outputs = [live(frame) for frame in frames]
    assert [o.pts for o in outputs] == list(range(40)) and live.received == 40
    deadline = time.time() + 30
    while not live.faces and time.time() < deadline:
        time.sleep(0.05)
        live(frames[-1])
    assert live.faces and live.faces[0].gender == "male"
    assert live.frames < live.received, "every frame was analysed: stale frames were queued, not dropped"
    live.stop()
    assert live._worker is None


def test_live_session_summary_after_stop_and_counters_reset_on_start(estimator):
    """After STOP the session's figures stay for the page's summary; the next frame starts a session from zero."""
    import time
    from fractions import Fraction

    import av

    from agegender.apps.live import LiveAnnotator

    frame = av.VideoFrame.from_ndarray(read_image(HOPPER), format="rgb24")
    frame.pts, frame.time_base = 0, Fraction(1, 30)
    live = LiveAnnotator(estimator)
    deadline = time.time() + 60
    while live.frames < 3 and time.time() < deadline:
        live(frame)
        time.sleep(0.05)
    live.stop()
    people, analysed, received, fps = live.summary()
    assert people == 1 and analysed >= 3 and received >= analysed and fps > 0, live.summary()
    time.sleep(0.2)
    assert live.summary()[1:3] == (analysed, received), "figures changed after STOP"
    live(frame)
    assert live.summary()[2] == 1 and live.summary()[1] <= 1, live.summary()
    deadline = time.time() + 30
    while not live.faces and time.time() < deadline:
        time.sleep(0.05)
    assert live.faces and live.faces[0].track_id == 1, "the tracker did not start again"
    live.stop()


def test_annotated_names_keep_the_extension_and_never_repeat():
    taken: set[str] = set()
    names = [unique_name(annotated_name(name, frame), taken)
             for name, frame in (("face.bmp", None), ("face.webp", None), ("face.bmp", None), ("scan.tif", 1),
                                 ("scan.tif", 1))]
    assert names == ["face.bmp.annotated.jpg", "face.webp.annotated.jpg", "face.bmp-2.annotated.jpg",
                     "scan.tif.page2.annotated.jpg", "scan.tif.page2-2.annotated.jpg"]
    assert unique_name("out/clip.mp4.annotated.mp4", {"out/clip.mp4.annotated.mp4"}) == "out/clip.mp4-2.annotated.mp4"
