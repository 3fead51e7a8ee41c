"""The full pipeline on real images: input types, awkward formats, bad input, the predict command, video."""

import io
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from agegender import ImageError, VideoAnalyzer, VideoError, analyze_video, read_frames, read_image, video_info
from agegender.apps.synthetic import jitter_frames, write_mp4
from agegender.inference.detect import get_detector
from agegender.inference.detect.cascade import Cascade
from tests.conftest import HOPPER, KNOWN, SAMPLES, run_cli


@pytest.fixture(scope="module")
def hopper_face(estimator):
    faces = estimator.analyze(HOPPER)
    assert len(faces) == 1
    return faces[0]


def test_multi_face_canvas(estimator):
    portraits = [
        read_image(SAMPLES / name)
        for name in ("grace_hopper.jpg", "obama_official_portrait.jpg", "astronaut_eileen_collins.png")
    ]
    tiles = [cv2.resize(p, (int(p.shape[1] * 400 / p.shape[0]), 400)) for p in portraits]
    canvas = np.concatenate(tiles, axis=1)
    faces = estimator.analyze(canvas)
    assert len(faces) == 3
    lefts = sorted(f.box[0] for f in faces)
    assert lefts[0] < tiles[0].shape[1] < lefts[1] < tiles[0].shape[1] + tiles[1].shape[1] < lefts[2]


@pytest.fixture(scope="module")
def small_faces_canvas():
    """12 copies of Hopper's head, each about 20 px wide."""
    head = cv2.resize(read_image(HOPPER)[100:380, 140:390], (27, 30), interpolation=cv2.INTER_AREA)
    canvas = np.full((240, 320, 3), 200, np.uint8)
    for i in range(12):
        y, x = 20 + (i // 4) * 70, 20 + (i % 4) * 75
        canvas[y : y + 30, x : x + 27] = head
    return canvas


def test_thorough_detector_finds_more_small_faces(estimator, small_faces_canvas):
    """CenterFace, with its own chip template and sharing the model, finds more of 12 faces about 20 px wide."""
    fast = estimator.with_options(detector="retinaface")
    thorough = estimator.with_options(detector="centerface")
    assert thorough.networks is estimator.networks and thorough.score_threshold == 0.40 and fast.score_threshold == 0.6
    faster, found = fast.analyze(small_faces_canvas), thorough.analyze(small_faces_canvas)
    assert len(found) >= 11 and len(found) > len(faster)
    assert all(16 <= f.box[2] - f.box[0] <= 26 for f in found)


def test_default_detector_cascade(estimator, small_faces_canvas):
    """Auto keeps RetinaFace's faces when all are large, and hands small faces to CenterFace."""
    assert estimator.detector.name == "auto" and estimator.min_face == 16
    assert estimator.detect(read_image(HOPPER)).detector == "retinaface"
    small = estimator.detect(small_faces_canvas)
    assert small.detector == "centerface" and len(small) >= 11


def test_detector_key_names_what_detections_depend_on(estimator):
    """Cached network outputs of photos are named by the detector's settings, so a change to them is never served
    stale: the fast copy's side, the small-face rule's scale, the size limit and the score floor."""
    key = estimator.detector.key
    assert key == "auto-4096-0.3-512-48@640"
    limited = estimator.with_options(max_side=400).detector
    assert limited.fast.max_side == 400 and limited.key == "auto-400-0.3-400-48@400"
    assert Cascade(0.3, fast_side=640).key == "auto-4096-0.3-640-48@640"
    assert get_detector("retinaface").key != get_detector("retinaface", max_side=640).key


def test_large_photo_fast_pass(estimator, hopper_face):
    """A 3,000 px photo: the fast pass works on a 512 px copy; box and landmarks land within 5% in its pixels."""
    big = cv2.resize(read_image(HOPPER), None, fx=5, fy=5, interpolation=cv2.INTER_CUBIC)
    found = estimator.detect(big)
    assert found.detector == "retinaface" and len(found) == 1
    tolerance = 0.05 * (found.boxes[0, 2] - found.boxes[0, 0])
    assert np.allclose(found.boxes[0], np.array(hopper_face.box) * 5, atol=tolerance)
    assert np.allclose(found.landmarks[0], np.array(hopper_face.landmarks) * 5, atol=tolerance)
    face = estimator.analyze(big)[0]
    assert face.gender == hopper_face.gender and abs(face.age - hopper_face.age) < 3


def test_face_fields(hopper_face):
    face = hopper_face
    assert face.gender in ("male", "female", "unknown") and 0.5 <= face.gender_probability <= 1
    assert face.age_low <= face.age <= face.age_high and face.age_std > 0
    assert face.age_group in ("35-45", "46-56", "57+")
    assert len(face.landmarks) == 5 and face.detector_score > 0.9
    x1, y1, x2, y2 = face.box
    assert 100 < x1 < x2 < 420 and 50 < y1 < y2 < 400


@pytest.mark.parametrize("kind", ["str", "path", "bytes", "file", "pil", "rgb", "bgr"])
def test_analyze_input_types(estimator, hopper_face, kind):
    rgb = read_image(HOPPER)
    source = {
        "str": str(HOPPER),
        "path": HOPPER,
        "bytes": HOPPER.read_bytes(),
        "file": io.BytesIO(HOPPER.read_bytes()),
        "pil": Image.open(HOPPER),
        "rgb": rgb,
        "bgr": rgb[:, :, ::-1].copy(),
    }[kind]
    faces = estimator.analyze(source, bgr=kind == "bgr")
    assert len(faces) == 1
    assert faces[0].age == pytest.approx(hopper_face.age, abs=0.05)
    assert faces[0].gender == hopper_face.gender


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def test_exif_rotated(estimator, hopper_face):
    rotated = Image.open(HOPPER).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation "rotate 90 CW to display", which undoes the (counter-clockwise) ROTATE_90
    faces = estimator.analyze(_saved(rotated, "JPEG", exif=exif, quality=95))
    assert len(faces) == 1
    assert read_image(_saved(rotated, "JPEG", exif=exif)).shape == read_image(HOPPER).shape
    assert abs(faces[0].age - hopper_face.age) < 3
    assert abs(faces[0].gender_probability - hopper_face.gender_probability) < 0.06
    told = estimator.with_options(abstain=False)  # the same leaning, wherever the abstention band's edge falls
    assert told.analyze(_saved(rotated, "JPEG", exif=exif, quality=95))[0].gender == told.analyze(HOPPER)[0].gender


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16"])
def test_awkward_pixel_formats(estimator, hopper_face, mode):
    image = Image.open(HOPPER)
    if mode == "I;16":
        gray16 = (np.asarray(image.convert("L"), np.uint16) * 257).astype(np.uint16)
        data = _saved(Image.fromarray(gray16), "PNG")
        assert Image.open(io.BytesIO(data)).mode.startswith("I")
    else:
        data = _saved(image.convert(mode), "PNG")
    faces = estimator.analyze(data)
    assert len(faces) == 1
    assert abs(faces[0].age - hopper_face.age) < 10


def test_huge_image(estimator, hopper_face):
    canvas = np.full((4000, 6000, 3), 128, np.uint8)
    portrait = cv2.resize(read_image(HOPPER), (1024, 1200))
    canvas[1000:2200, 3000:4024] = portrait
    faces = estimator.analyze(canvas)
    assert len(faces) == 1
    x1, y1, x2, y2 = faces[0].box
    assert 3000 < x1 < x2 < 4024 and 1000 < y1 < y2 < 2200
    assert abs(faces[0].age - hopper_face.age) < 10


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"this is plain text, not a picture", "not an image"), ("truncated", "corrupt or truncated")],
)
def test_bad_files_raise_clear_errors(estimator, content, message):
    data = HOPPER.read_bytes()[:4000] if content == "truncated" else content
    with pytest.raises(ImageError, match=message):
        estimator.analyze(data)


def test_predict_cli_reports_bad_files_and_goes_on(tmp_path):
    """Every input gets a row: faces for the good ones, an error row with the message for each bad one."""
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "broken.jpg").write_bytes(HOPPER.read_bytes()[:3000])
    out = tmp_path / "faces.jsonl"
    run = run_cli(
        "predict",
        HOPPER,
        SAMPLES / "obama_official_portrait.jpg",
        tmp_path / "empty.jpg",
        tmp_path / "notes.txt",
        tmp_path / "broken.jpg",
        "--out",
        out,
        "--annotate",
        tmp_path / "ann",
    )
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_file = {r["file"].split("/")[-1]: r for r in rows}
    assert [r["file"].split("/")[-1] for r in rows if r["status"] == "ok"] == [
        "grace_hopper.jpg",
        "obama_official_portrait.jpg",
    ]
    assert by_file["obama_official_portrait.jpg"]["gender"] == "male"
    assert abs(by_file["obama_official_portrait.jpg"]["age"] - 51) < 15
    expected = {"empty.jpg": "empty", "notes.txt": "not an image", "broken.jpg": "corrupt or truncated"}
    for name, message in expected.items():
        assert by_file[name]["status"] == "error" and message in by_file[name]["error"], by_file[name]
        assert by_file[name]["age"] is None and by_file[name]["face"] is None
        assert f"error: {tmp_path / name}" in run.stderr
    assert "5 inputs: 2 ok, 0 no face, 3 errors; 2 faces" in run.stderr
    assert (tmp_path / "ann" / "grace_hopper.jpg.annotated.jpg").stat().st_size > 10000


def test_predict_cli_csv_for_a_folder(tmp_path):
    out = tmp_path / "faces.csv"
    run = run_cli("predict", SAMPLES, "--out", out, "--no-progress")
    assert run.returncode == 0, run.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("file,frame,face,track_id,x1,y1,x2,y2")
    assert len(lines) == 1 + len(KNOWN)


def test_predict_cli_fails_when_nothing_readable(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"garbage")
    run = run_cli("predict", tmp_path / "a.jpg", tmp_path / "missing.png")
    assert run.returncode == 1
    assert "not an image" in run.stderr and "no such file" in run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(r["status"], r["face"]) for r in rows] == [("error", None), ("error", None)]
    assert "not an image" in rows[0]["error"] and "no such file" in rows[1]["error"]


def test_predict_help_explains_options():
    run = run_cli("predict", "--help")
    assert run.returncode == 0
    for option in ("--out", "--format", "--annotate", "--every", "--min-face", "--threshold", "--detector", "--flip"):
        assert option in run.stdout


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = list(jitter_frames(read_image(HOPPER), 30, jitter_px=2.0))
    return write_mp4(frames, tmp_path_factory.mktemp("video") / "hopper.mp4")


def test_video_keeps_track_ids_and_settles(estimator, clip):
    analyzer = VideoAnalyzer(estimator)
    frames = list(read_frames(clip)) * 2
    assert len(frames) == 60
    results = []
    for start in range(0, 60, 8):
        chunk = frames[start : start + 8]
        results += analyzer.process([f for _, f in chunk], [i for i, _ in chunk], "clip")
    assert [len(r.faces) for r in results] == [1] * 60
    assert {r.faces[0].track_id for r in results} == {1}
    after_first_second = [r.faces[0] for r in results[30:]]
    assert len({f.gender for f in after_first_second}) == 1
    assert np.std([f.age for f in after_first_second]) <= 1.0


def test_predict_cli_video_every_nth_frame(clip, tmp_path):
    out = tmp_path / "video.jsonl"
    run = run_cli("predict", clip, "--every", "3", "--out", out, "--annotate", tmp_path)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["frame"] for r in rows] == list(range(0, 30, 3))
    assert {r["track_id"] for r in rows} == {1}
    annotated = tmp_path / "hopper.mp4.annotated.mp4"  # every source frame, the boxes carried between analysed ones
    assert len(list(read_frames(annotated))) == 30
    assert abs(video_info(annotated).seconds - video_info(clip).seconds) <= 0.1


@pytest.mark.parametrize("fps", [15, 30000 / 1001])
def test_annotated_video_lasts_as_long_as_its_source(estimator, tmp_path, fps):
    """31 frames (a multiple of neither 2 nor 3) at 15 and 29.97 fps, analysed every 1, 2 and 3 frames."""
    clip = write_mp4(jitter_frames(read_image(HOPPER), 31, size=(320, 240)), tmp_path / "clip.mp4", fps=fps)
    source = video_info(clip)
    assert source.frames == 31 and abs(source.seconds - 31 / fps) < 1e-3
    for every in (1, 2, 3):
        out = tmp_path / f"every{every}.mp4"
        results = [result for _, result in analyze_video(estimator, clip, "clip", every, annotated=out)]
        assert [r.frame for r in results] == list(range(0, 31, every))
        assert all(len(r.faces) == 1 for r in results)
        written = video_info(out)
        assert written.frames == 31 and abs(written.seconds - source.seconds) <= 0.1, (every, written)


def test_truncated_video(clip, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    with pytest.raises(VideoError, match="truncated"):
        list(read_frames(broken))
    run = run_cli("predict", broken, HOPPER, "--no-progress")
    assert run.returncode == 0
    assert f"error: {broken}" in run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["status"] for r in rows] == ["error", "ok"] and "truncated" in rows[0]["error"]
    assert "moov" not in run.stderr and "[mov" not in run.stderr
