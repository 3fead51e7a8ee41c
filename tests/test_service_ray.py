"""`agegender serve --engine ray`: 2 replicas on a local cluster answer as the local service does, photos and a
video alike, and no Ray process is left once the service stops."""

import time

import httpx
import psutil
import pytest

from agegender import SAMPLES, read_image
from agegender.apps.synthetic import jitter_frames, write_mp4
from tests.conftest import HOPPER, KNOWN, ray_processes
from tests.service_server import server, stop

pytestmark = pytest.mark.slow


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
    before = ray_processes(wait=0)
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
    assert shutdown[0] == 0, shutdown  # a clean shutdown (SIGINT), not killed after waiting for one
    left = ray_processes(exclude=before)
    assert not left, ({pid: (text.split()[0], _parent_and_status(pid)) for pid, text in left.items()}, shutdown)
