"""`agegender serve`: a real server in a subprocess and a real HTTP client; every endpoint, the limits, the keys."""

import csv
import io
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from agegender import SAMPLES, read_image
from agegender.apps.synthetic import jitter_frames, write_mp4
from agegender.inference.people import PERSON_FIELDS
from agegender.paths import MODEL_SPEC
from tests.conftest import HOPPER, KNOWN, run_cli
from tests.hostile_corpus import png_declaring
from tests.service_server import server, stop

GROUP = Path(__file__).parent / "data" / "group_faceapi_sample3.jpg"
KEY = "s3cret-key-0123456789abcdef"


@pytest.fixture(scope="module")
def tmpdir_of_server(tmp_path_factory):
    return tmp_path_factory.mktemp("server_tmp")


@pytest.fixture(scope="module")
def default_server(tmpdir_of_server):
    """The default service, with its temporary folder watched (uploads must never land there)."""
    with server(env={"TMPDIR": str(tmpdir_of_server)}) as running:
        yield running


@pytest.fixture(scope="module")
def url(default_server):
    return default_server.url


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_mp4(jitter_frames(read_image(HOPPER), 12, size=(320, 240)), tmp_path_factory.mktemp("v") / "c.mp4",
                     fps=12)


def faces_of(url, path, **params) -> httpx.Response:
    return httpx.post(f"{url}/v1/faces", files={"file": (path.name, path.read_bytes())}, params=params, timeout=60)


def test_faces_are_the_command_lines_rows(url):
    """Every sample photo: the same fields, names and values as `agegender predict`'s JSON rows."""
    cli = [json.loads(line) for line in run_cli("predict", SAMPLES, "--no-progress").stdout.splitlines()]
    for name in KNOWN:
        answer = faces_of(url, SAMPLES / name)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        body = answer.json()
        assert body["file"] == name and body["status"] == "ok" and body["code"] == 200 and body["error"] is None
        (image,) = body["results"]
        rows = [r for r in cli if r["file"].endswith(name)]
        assert (image["image_width"], image["image_height"]) == (rows[0]["image_width"], rows[0]["image_height"])
        assert len(image["faces"]) == len(rows)
        for face, row in zip(image["faces"], rows, strict=True):
            assert face == {key: row[key] for key in face}
            assert set(row) - set(face) == {"file", "frame", "status", "error", "image_width", "image_height"}


def test_raw_body_and_query_options(url):
    data = GROUP.read_bytes()
    default = httpx.post(f"{url}/v1/faces", content=data, headers={"content-type": "image/jpeg"}, timeout=60).json()
    assert default["file"] == "upload" and len(default["results"][0]["faces"]) == 3
    named = httpx.post(f"{url}/v1/faces", params={"name": "group.jpg"}, content=data, timeout=60).json()
    assert named["file"] == "group.jpg" and named["results"][0]["faces"] == default["results"][0]["faces"]
    strict = faces_of(url, GROUP, threshold=0.997).json()["results"][0]["faces"]  # scores 0.9996, 0.9982, 0.9952
    assert len(strict) == 2 and all(f["detector_score"] >= 0.997 for f in strict)
    fast = faces_of(url, GROUP, detector="retinaface").json()["results"][0]["faces"]
    assert len(fast) == 3 and [f["detector_score"] for f in fast] != [f["detector_score"] for f in strict]
    huge = faces_of(url, HOPPER, min_face=2000).json()
    assert huge["status"] == "no_face" and huge["results"][0]["faces"] == []
    flipped, plain = faces_of(url, HOPPER, flip=True).json(), faces_of(url, HOPPER, flip=False).json()
    assert flipped["results"][0]["faces"][0]["gender_probability"] != \
        plain["results"][0]["faces"][0]["gender_probability"]
    for bad in ({"detector": "nope"}, {"threshold": 0.01}, {"threshold": "x"}, {"min_face": -1}):
        answer = faces_of(url, HOPPER, **bad)
        assert answer.status_code == 422 and answer.json()["detail"], bad


def test_pages_of_a_tiff_are_results(url):
    buffer = io.BytesIO()
    Image.open(HOPPER).save(buffer, "TIFF", save_all=True, append_images=[Image.new("RGB", (64, 64))])
    body = httpx.post(f"{url}/v1/faces", content=buffer.getvalue(), timeout=60).json()
    assert [(r["frame"], r["status"]) for r in body["results"]] == [(0, "ok"), (1, "no_face")]
    assert body["status"] == "ok"


def test_bad_input_is_a_4xx_with_its_message(url):
    cases = {
        "bomb.png": (png_declaring(20000, 15000), 413, "image too large: 20000 x 15000 = 300 Mpx (limit 100 Mpx)"),
        "doc.pdf": (b"%PDF-1.4\n%%EOF", 415, "PDF files are not supported"),
        "text.jpg": (b"hello", 415, "not an image"),
        "clip.jpg": (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, 415, "looks like a video"),
        "empty.jpg": (b"", 422, "the file is empty"),
        "cut.jpg": (HOPPER.read_bytes()[:3000], 422, "corrupt or truncated"),
    }
    for name, (data, code, message) in cases.items():
        answer = httpx.post(f"{url}/v1/faces", files={"file": (name, data)}, timeout=60)
        assert answer.status_code == code and answer.json()["detail"].startswith(f"{name}: "), (name, answer.text)
        assert message in answer.json()["detail"], answer.text
    assert httpx.post(f"{url}/v1/faces", files=[("file", ("a", b"1")), ("file", ("b", b"2"))]).status_code == 422
    empty_form = {"content-type": "multipart/form-data; boundary=b"}
    no_part = httpx.post(f"{url}/v1/faces", content=b"--b--\r\n", headers=empty_form)
    assert no_part.status_code == 422 and "no file in the form" in no_part.json()["detail"]
    form = httpx.post(f"{url}/v1/faces", data={"note": "x"})  # a URL-encoded form is a raw body, not an image
    assert form.status_code == 415 and form.json()["detail"] == "upload: not an image (unrecognised format)"
    malformed = httpx.post(f"{url}/v1/faces", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data"})
    assert malformed.status_code == 400 and "multipart" in malformed.json()["detail"]


def test_batch_answers_every_file(url):
    files = [("files", ("hopper.jpg", HOPPER.read_bytes())), ("files", ("bad.jpg", b"not an image")),
             ("files", ("bomb.png", png_declaring(14000, 14000))), ("files", ("group.jpg", GROUP.read_bytes()))]
    body = httpx.post(f"{url}/v1/faces/batch", files=files, timeout=60).json()
    entries = [(f["file"], f["status"], f["code"]) for f in body["files"]]
    assert entries == [("hopper.jpg", "ok", 200), ("bad.jpg", "error", 415), ("bomb.png", "error", 413),
                       ("group.jpg", "ok", 200)]
    assert body["files"][1]["error"].startswith("bad.jpg: not an image") and body["files"][1]["results"] == []
    assert body["files"][0]["results"][0]["faces"] == faces_of(url, HOPPER).json()["results"][0]["faces"]
    too_many = httpx.post(f"{url}/v1/faces/batch", files=[("files", (f"{i}.jpg", b"x")) for i in range(33)])
    assert too_many.status_code == 413 and "at most 32" in too_many.json()["detail"]


def test_uploads_never_touch_the_disk(url, tmpdir_of_server):
    """A 6 MB upload (Starlette would spool anything over 1 MB to a temporary file) leaves the temp folder empty."""
    noise = np.random.default_rng(0).integers(0, 256, (1500, 1400, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG", compress_level=0)
    assert len(buffer.getvalue()) > 6_000_000
    answer = httpx.post(f"{url}/v1/faces", files={"file": ("noise.png", buffer.getvalue())}, timeout=60)
    assert answer.status_code == 200 and answer.json()["status"] == "no_face"
    assert list(tmpdir_of_server.iterdir()) == []


def test_video_job_gives_the_command_lines_rows_and_people(url, clip, tmp_path):
    started = httpx.post(f"{url}/v1/videos", files={"file": ("c.mp4", clip.read_bytes())}, params={"every": 2})
    assert started.status_code == 202 and started.json()["status"] in ("queued", "running", "done")
    job_id = started.json()["id"]
    deadline = time.monotonic() + 60
    while (job := httpx.get(f"{url}/v1/videos/{job_id}").json())["status"] in ("queued", "running"):
        assert 0 <= job["progress"] <= 1 and time.monotonic() < deadline
        time.sleep(0.2)
    assert job["status"] == "done" and job["progress"] == 1 and job["frames"] == 6 and job["expires_in"] > 800
    people_csv = tmp_path / "people.csv"
    run = run_cli("predict", clip, "--every", "2", "--per-person", people_csv, "--no-progress")
    cli_rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [{**r, "file": "c.mp4"} for r in cli_rows] == job["rows"]
    people = list(csv.DictReader(people_csv.open()))
    assert len(job["people"]) == len(people) == 1 and tuple(job["people"][0]) == PERSON_FIELDS
    assert job["people"][0]["age"] == float(people[0]["age"]) and job["people"][0]["gender"] == people[0]["gender"]
    assert httpx.delete(f"{url}/v1/videos/{job_id}").status_code == 204
    assert httpx.get(f"{url}/v1/videos/{job_id}").status_code == 404
    assert httpx.delete(f"{url}/v1/videos/{job_id}").status_code == 404


def test_bad_video_is_an_error(url):
    empty = httpx.post(f"{url}/v1/videos", content=b"")
    assert empty.status_code == 422 and empty.json()["detail"] == "upload: the file is empty"
    job = httpx.post(f"{url}/v1/videos", params={"name": "x.mp4"}, content=b"not a video at all").json()
    deadline = time.monotonic() + 30
    while (job := httpx.get(f"{url}/v1/videos/{job['id']}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job["status"] == "error" and job["error"].startswith("x.mp4: not a readable video") and job["rows"] is None
    httpx.delete(f"{url}/v1/videos/{job['id']}")


def test_health_readiness_info_metrics_and_docs(url):
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{url}/readyz").json() == {"ready": True}
    info = httpx.get(f"{url}/v1/info").json()
    spec = json.loads(MODEL_SPEC.read_text())
    metrics = json.loads((MODEL_SPEC.parent / "metrics.json").read_text())
    assert info["model"]["version"] == spec["version"] and info["figures"]["age_mae"] == metrics["age_mae"]
    assert info["detectors"] == ["auto", "centerface", "retinaface"] and info["limits"]["max_body_bytes"] == 20_000_000
    faces_of(url, HOPPER)
    text = httpx.get(f"{url}/metrics").text
    for name in ("agegender_requests_total", "agegender_request_seconds_bucket", "agegender_faces_total",
                 "agegender_errors_total", "agegender_queue_depth", "agegender_video_jobs"):
        assert f"\n{name}" in text, name
    assert 'agegender_requests_total{code="200",method="POST",route="/v1/faces"}' in text
    schema = httpx.get(f"{url}/openapi.json").json()
    assert set(schema["paths"]) == {"/v1/faces", "/v1/faces/batch", "/v1/videos", "/v1/videos/{job_id}", "/healthz",
                                    "/readyz", "/metrics", "/v1/info"}
    docs = httpx.get(f"{url}/docs").text
    assert "/static/swagger-ui-bundle.js" in docs and "http" not in docs.replace("http-equiv", "")
    assert httpx.get(f"{url}/static/swagger-ui-bundle.js").status_code == 200
    assert httpx.get(f"{url}/nowhere").status_code == 404


def test_busy_service_answers_503_and_recovers(tmp_path):
    """One model thread and no queue, a 1 MB limit and one video job: the limits answer, then the service recovers
    and stops cleanly."""
    with server("--workers", "1", "--queue", "0", "--max-upload-mb", "1", "--video-jobs", "1") as running:
        url = running.url
        data = GROUP.read_bytes()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: httpx.post(f"{url}/v1/faces", content=data, timeout=60), range(8)))
        codes = sorted(a.status_code for a in answers)
        assert set(codes) == {200, 503} and codes.count(200) >= 1, codes
        busy = next(a for a in answers if a.status_code == 503)
        assert busy.headers["retry-after"] == "1" and "busy" in busy.json()["detail"]
        assert httpx.post(f"{url}/v1/faces", content=data, timeout=60).status_code == 200
        assert "agegender_queue_depth 0.0" in httpx.get(f"{url}/metrics").text
        big = httpx.post(f"{url}/v1/faces", content=b"x" * 1_200_000)
        assert big.status_code == 413 and big.json()["detail"] == "the request is larger than the limit of 1 MB"
        chunked = httpx.post(f"{url}/v1/faces", content=iter([b"x" * 600_000] * 2))
        assert chunked.status_code == 413
        first = httpx.post(f"{url}/v1/videos", content=b"v1").json()["id"]
        second = httpx.post(f"{url}/v1/videos", content=b"v2")
        assert second.status_code == 503 and "delete one" in second.json()["detail"]
        assert httpx.delete(f"{url}/v1/videos/{first}").status_code == 204
        assert httpx.post(f"{url}/v1/videos", content=b"v3").status_code == 202
        stop(running.process)  # Ctrl-C with a video job running: a clean exit, though started with SIGINT ignored
        assert running.process.returncode == 0, running.stderr()[-2000:]


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    keys = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys.write_text(f"# service keys\n{KEY}\nsecond-key  # another client\n")
    with server("--api-key-file", keys, "--timeout", "0.001") as running:
        yield running.url


ENDPOINTS = [("POST", "/v1/faces"), ("POST", "/v1/faces/batch"), ("POST", "/v1/videos"), ("GET", "/v1/videos/x"),
             ("DELETE", "/v1/videos/x"), ("GET", "/metrics"), ("GET", "/v1/info"), ("GET", "/docs"),
             ("GET", "/openapi.json"), ("GET", "/static/swagger-ui.css")]


def test_keys_guard_every_endpoint_but_the_health_checks(keyed):
    for method, path in ENDPOINTS:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}, {"Authorization": "Basic x"}):
            answer = httpx.request(method, keyed + path, headers=headers)
            assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer", (path, headers)
        for key in (KEY, "second-key"):
            answer = httpx.request(method, keyed + path, headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code != 401, path
    for path in ("/healthz", "/readyz"):
        assert httpx.get(keyed + path).status_code == 200


def test_per_request_timeout_is_a_503(keyed):
    answer = httpx.post(f"{keyed}/v1/faces", content=GROUP.read_bytes(), headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 503 and "longer than 0.001 s" in answer.json()["detail"]
    assert answer.headers["retry-after"] == "1"


def test_wrong_keys_of_equal_length_take_the_same_time(keyed):
    """Keys wrong in their first or in their last character: medians of 400 interleaved requests each, taking turns
    at going first (so that neither gains from its place in the pair on a busy machine)."""
    wrong = {"first": "X" + KEY[1:], "last": KEY[:-1] + "X"}
    times: dict[str, list[float]] = {name: [] for name in wrong}
    with httpx.Client() as client:
        for turn in range(400):
            for name, key in sorted(wrong.items(), reverse=turn % 2 == 1):
                started = time.perf_counter()
                assert client.get(f"{keyed}/v1/info", headers={"Authorization": f"Bearer {key}"}).status_code == 401
                times[name].append(time.perf_counter() - started)
    first, last = (statistics.median(times[name]) for name in wrong)
    print(f"median 401 time: wrong first character {first * 1e3:.3f} ms, wrong last character {last * 1e3:.3f} ms")
    assert abs(first - last) < 0.05 * min(first, last)


def test_warns_when_listening_beyond_localhost_without_a_key(default_server):
    assert "warning" not in default_server.stderr()
    with server("--host", "0.0.0.0") as running:
        assert "warning: listening on 0.0.0.0 with no API key" in running.stderr()


def test_the_thread_pool_sizes_to_the_cores(url):
    assert httpx.get(f"{url}/v1/info").json()["limits"]["workers"] == os.cpu_count()
