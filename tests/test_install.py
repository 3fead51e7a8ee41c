"""Install as the README says, as a new user would: a fresh clone, a new venv (no system packages), the README's
one install command; then `agegender --help` and `agegender serve` from another folder."""

import os
import re
import subprocess

import httpx
import pytest

from agegender.paths import REPO
from tests.conftest import HOPPER
from tests.service_server import server

pytestmark = pytest.mark.slow


def readme_install_command() -> str:
    """The README's install line, without the part that starts the dashboard."""
    section = (REPO / "README.md").read_text().split("## Install", 1)[1]
    line = re.search(r"```bash\n(.*?)\n```", section, re.S).group(1).strip()
    assert "\n" not in line, "the README's install is one command"
    parts = [part.strip() for part in line.split("&&")]
    assert parts[-1].startswith("streamlit run")
    return " && ".join(parts[:-1])


def test_readme_install_then_the_command_from_another_folder(tmp_path):
    clone, elsewhere = tmp_path / "agegender", tmp_path / "elsewhere"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    elsewhere.mkdir()
    command = readme_install_command()
    assert 'pip install -e ".[' in command and "python3 -m venv .venv" in command
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    quiet = {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    install = subprocess.run(["bash", "-c", command + " -q"], cwd=clone, env=quiet, capture_output=True, text=True,
                             timeout=1200)
    assert install.returncode == 0, install.stderr[-3000:]
    agegender = clone / ".venv" / "bin" / "agegender"
    shown = subprocess.run([str(agegender), "--help"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert shown.returncode == 0 and "serve" in shown.stdout and "predict" in shown.stdout
    with server(command=[str(agegender)], cwd=elsewhere, env={"PYTHONPATH": ""}) as running:
        answer = httpx.post(f"{running.url}/v1/faces", files={"file": ("h.jpg", HOPPER.read_bytes())}, timeout=60)
        assert answer.status_code == 200 and len(answer.json()["results"][0]["faces"]) == 1
        assert httpx.get(f"{running.url}/docs").status_code == 200
