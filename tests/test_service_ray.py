"""`agegender serve --engine ray`: 2 replicas on a local cluster answer as the local service does, photos and a
video alike, and no Ray process is left once the service stops."""

import time

import httpx
import psutil
import pytest

from agegender import SAMPLES, read_image
from agegender.apps.synthetic import jitter_frames, write_mp4
from tests.conftest import HOPPER, KNOWN
from tests.service_server import server, stop

pytestmark = pytest.mark.slow


def _ray_processes() -> dict[int, str]:
    """Ray's processes on this machine: the cluster's daemons, its workers and actors. Zombies (ended, waiting for
    this machine's init to reap them: it may take its time) are not running, so they are not counted."""
    found = {}
    for process in psutil.process_iter(["pid", "name", "cmdline", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        text = " ".join(process.info["cmdline"] or []) or process.info["name"] or ""
        if any(mark in text for mark in ("raylet", "gcs_server", "ray::", "ray/_private", "ray/dashboard")):
            found[process.info["pid"]] = text[:120]
    return found


def _parent_and_status(pid: int) -> tuple:
    try:
        process = psutil.Process(pid)
        return process.ppid(), process.status(), " ".join(process.cmdline())[-200:]
    except psutil.Error as error:
        return (repr(error),)


def _replicas(pid: int) -> list[psutil.Process]:
    children = psutil.Process(pid).children(recursive=True)
    return [p for p in children if "ServeReplica:agegender" in " ".join(p.cmdline())]


def _video(url: str, data: bytes) -> dict:
    job = httpx.post(f"{url}/v1/videos", files={"file": ("clip.mp4", data)}, params={"every": 2}, timeout=60).json()
    deadline = time.monotonic() + 120
    while (job := httpx.get(f"{url}/v1/videos/{job['id']}", timeout=60).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    return {k: v for k, v in job.items() if k not in ("id", "expires_in")}


def test_ray_serve_answers_as_the_local_service(tmp_path):
    clip = write_mp4(jitter_frames(read_image(HOPPER), 12, size=(320, 240)), tmp_path / "clip.mp4", fps=12)
    photos = {name: (SAMPLES / name).read_bytes() for name in KNOWN}
    before = _ray_processes()
    with server() as local:
        expected = {name: httpx.post(f"{local.url}/v1/faces", files={"file": (name, data)}).json()
                    for name, data in photos.items()}
        expected_video = _video(local.url, clip.read_bytes())
    with server("--engine", "ray", "--replicas", "2", wait=300) as ray:
        deadline = time.monotonic() + 120
        while len(replicas := _replicas(ray.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        for _ in range(2):  # each photo twice: both replicas answer
            for name, data in photos.items():
                answer = httpx.post(f"{ray.url}/v1/faces", files={"file": (name, data)}, timeout=60)
                assert answer.status_code == 200 and answer.json() == expected[name], name
        assert _video(ray.url, clip.read_bytes()) == expected_video
        assert expected_video["status"] == "done" and expected_video["people"]
        assert httpx.get(f"{ray.url}/v1/info").json()["limits"]["workers"] == 1  # one model thread per replica
        assert httpx.post(f"{ray.url}/v1/faces", content=b"%PDF-1.4").status_code == 415
        stop(ray.process)  # here, so that its shutdown's log can be read below
        shutdown = (ray.process.returncode, ray.stderr()[-2000:])
    assert len(replicas) == 2
    deadline = time.monotonic() + 60  # Ray's own processes take a few seconds to go on a busy machine
    while (left := {pid: text for pid, text in _ray_processes().items() if pid not in before}) and (
            time.monotonic() < deadline):
        time.sleep(1)
    assert not left, ({pid: (text.split()[0], _parent_and_status(pid)) for pid, text in left.items()}, shutdown)
    assert shutdown[0] == 0, shutdown  # a clean shutdown (SIGINT), not killed after waiting for one
