"""Offline and private: the command line and the dashboard work with no network, and write no telemetry."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from agegender.paths import REPO

pytestmark = pytest.mark.slow
TELEMETRY = (".cache/Microsoft", ".streamlit")


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs root and unshare")
def test_app_and_cli_work_without_a_network_and_leave_no_telemetry(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "offline.json"
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    run = subprocess.run(["unshare", "-n", sys.executable, "-m", "tests.offline_session", str(out)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["cli_status"] == 0 and json.loads(report["cli_rows"][0])["status"] == "ok"
    assert report["health"] == "ok" and report["page_faces"] == 1, report["server_log"]
    assert "External URL" not in report["server_log"] and "Network URL" not in report["server_log"]
    left = [str(p.relative_to(home)) for p in home.rglob("*")]
    assert not any(name.startswith(TELEMETRY) for name in left), left
