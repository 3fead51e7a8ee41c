"""`predict --engine ray` on a local 2-CPU Ray cluster gives the local command line's rows, bad files included."""

import csv
import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from agegender import SAMPLES, read_image
from agegender.apps.scale import read_rows
from agegender.apps.synthetic import jitter_frames, write_mp4
from tests.conftest import ray_processes, run_cli


def photo_folder(folder: Path, n: int = 200) -> Path:
    """n photos made from the sample portraits (sizes, mirror images, JPEG qualities), bad files and videos."""
    folder.mkdir(parents=True)
    portraits = [read_image(p) for p in sorted(SAMPLES.glob("*.jpg")) + sorted(SAMPLES.glob("*.png"))]
    rng = np.random.default_rng(0)
    for i in range(n):
        image = portraits[i % len(portraits)]
        scale = rng.uniform(0.3, 1.0)
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        image = image[:, ::-1] if i % 2 else image
        quality = int(rng.integers(60, 95))
        cv2.imwrite(str(folder / f"photo_{i:03d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, quality])
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    clip = write_mp4(jitter_frames(portraits[0], 20, size=(320, 240)), folder / "clip.mp4", fps=10)
    (folder / "corrupt.mp4").write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    return folder


def key(row: dict) -> tuple:
    return row["file"], row["frame"], row["face"]


def test_rows_read_back_with_their_types_whatever_file_comes_first(tmp_path):
    """Ray splits the JSON rows over files at will: a file of still photos (frame null) may come first."""
    (tmp_path / "a_000000.json").write_text(json.dumps({"file": "a.jpg", "frame": None, "status": "no_face"}) + "\n")
    (tmp_path / "b_000001.json").write_text(
        json.dumps({"file": "v.mp4", "frame": 5, "face": 0, "status": "ok", "age": 31.5, "box": [1, 2, 30, 40]}) + "\n"
    )
    rows = sorted(read_rows(tmp_path), key=lambda r: r["file"])
    assert [(r["file"], r["frame"], r["status"]) for r in rows] == [("a.jpg", None, "no_face"), ("v.mp4", 5, "ok")]
    assert rows[1]["age"] == 31.5 and rows[1]["box"] == [1.0, 2.0, 30.0, 40.0] and rows[0]["age"] is None


@pytest.mark.slow
def test_ray_rows_equal_the_local_rows(tmp_path):
    folder = photo_folder(tmp_path / "photos")
    local, local_people, ray_people = tmp_path / "local.jsonl", tmp_path / "people.csv", tmp_path / "ray_people.csv"
    run = run_cli("predict", folder, "--out", local, "--no-progress", "--every", "5", "--per-person", local_people)
    assert run.returncode == 0, run.stderr[-2000:]
    out = tmp_path / "ray"
    remote = run_cli("predict", folder, "--engine", "ray", "--out", out, "--format", "jsonl", "--every", "5",
                     "--cpus-per-actor", "0.5", "--actors", "2", "--per-person", ray_people, timeout=900)
    assert remote.returncode == 0, remote.stderr[-3000:]
    expected = {key(r): r for r in map(json.loads, local.read_text().splitlines())}
    got = {key(r): r for r in read_rows(out)}
    assert set(got) == set(expected)
    assert len({r["file"] for r in expected.values()}) == 204
    for k, want in expected.items():
        have = got[k]
        assert have["status"] == want["status"] and have["error"] == want["error"], k
        if want["status"] == "ok":
            assert np.allclose(have["box"], want["box"], atol=0.5), k
            assert abs(have["age"] - want["age"]) <= 0.01 and have["gender"] == want["gender"], k
            assert have["track_id"] == want["track_id"], k
    people = [sorted(csv.DictReader(path.open()), key=lambda p: (p["source"], p["person"]))
              for path in (local_people, ray_people)]
    assert len(people[0]) == 1 and people[0][0]["source"].endswith("clip.mp4") and people[0][0]["frames"] == "4"
    same = ("source", "person", "tracks", "first_frame", "last_frame", "frames", "gender", "age_group")
    assert [[p[k] for k in same] for p in people[1]] == [[p[k] for k in same] for p in people[0]]
    assert abs(float(people[1][0]["age"]) - float(people[0][0]["age"])) <= 0.01
    statuses = {Path(f): s for (f, _, _), s in ((k, r["status"]) for k, r in got.items())}
    assert statuses[folder / "corrupt.mp4"] == "error" and statuses[folder / "empty.jpg"] == "error"
    tail = remote.stderr.strip().splitlines()[-1]
    assert tail.startswith("204 inputs: ") and "3 errors" in tail, tail
    assert not (left := ray_processes()), left


@pytest.mark.slow
def test_a_cluster_started_here_goes_whole_and_alone():
    """Stopping a cluster this process started stops every Ray process of it and no other child of this process."""
    from agegender.apps.raycluster import shutdown_started_here, start_here

    before = ray_processes(wait=0)
    other = subprocess.Popen(["sleep", "300"])
    try:
        daemons = start_here(num_cpus=1, include_dashboard=False, log_to_driver=False)
        assert daemons and other.pid not in {d.pid for d in daemons}
        assert ray_processes(exclude=before, wait=0)
        shutdown_started_here(daemons)
        assert not (left := ray_processes(exclude=before)), left
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
