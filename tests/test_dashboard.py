"""The dashboard in a real browser: Debian's Chromium driven by Playwright against `streamlit run`."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from agegender.imageio import read_image
from agegender.paths import MODELS, REPO
from agegender.synthetic import jitter_frames, write_y4m

from .conftest import SAMPLES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = REPO / "tests" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = open(tmp_path_factory.mktemp("streamlit") / "server.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + Path(log.name).read_text()[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def fake_camera(tmp_path_factory) -> Path:
    frames = jitter_frames(read_image(SAMPLES / "obama_official_portrait.jpg"), 90, jitter_px=2.0)
    return write_y4m(frames, tmp_path_factory.mktemp("camera") / "portrait.y4m")


@pytest.fixture(scope="module")
def browser(fake_camera):
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={fake_camera}"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.base = server
    yield page
    context.close()


def open_page(page: Page, path: str, heading: str) -> None:
    page.goto(f"{page.base}/{path}")
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=90_000)


def no_exception(page: Page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def first_row(table) -> dict[str, str]:
    """The first body row of an HTML table, keyed by its headers."""
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    cells = [c.strip() for c in table.locator("tbody tr").first.locator("td, th").all_inner_texts()]
    return dict(zip(headers, cells, strict=False))


def test_home_page(page):
    open_page(page, "", "agegender")
    metrics = json.loads((MODELS / "metrics.json").read_text())
    expect(page.get_by_text(f"{metrics['age_mae']:.2f}").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Everything runs on this computer").first).to_be_visible()
    no_exception(page)
    shot(page, "home")


def test_upload_annotates_and_reports_bad_file(page, tmp_path):
    open_page(page, "Upload", "Upload images")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 definitely not a complete jpeg")
    page.locator('input[type="file"]').set_input_files([str(SAMPLES / "grace_hopper.jpg"), str(corrupt)])
    expect(page.get_by_text("Could not read corrupt.jpg").first).to_be_visible(timeout=120_000)
    table = page.locator('[data-testid="stTable"] table').first
    expect(table).to_be_visible(timeout=120_000)
    expect(page.get_by_text("1 face(s)")).to_be_visible()
    expect(page.locator('[data-testid="stImage"] img').first).to_be_visible()
    cells = first_row(table)
    assert 62 <= float(cells["age"]) <= 92, cells
    assert cells["gender"] == "female", cells
    no_exception(page)
    shot(page, "upload")
    page.get_by_text("CenterFace: thorough").click()
    detector_score = page.locator('[data-testid="stTable"] table').first.get_by_text("0.87")
    expect(detector_score).to_be_visible(timeout=120_000)
    expect(page.get_by_text("1 face(s)")).to_be_visible()
    no_exception(page)


def test_webcam_processes_frames(page):
    open_page(page, "Webcam", "Live webcam")
    frame = page.frame_locator("iframe").first
    frame.get_by_role("button", name=re.compile("start", re.I)).click(timeout=90_000)
    frames_metric = page.locator('[data-testid="stMetric"]').filter(has_text="Frames processed")
    deadline = time.time() + 150
    processed = 0
    while time.time() < deadline:
        text = frames_metric.locator('[data-testid="stMetricValue"]').inner_text(timeout=30_000)
        processed = int(text.replace(",", ""))
        if processed >= 30 and page.locator('[data-testid="stTable"]').count():
            break
        time.sleep(1)
    assert processed >= 30
    table = page.locator('[data-testid="stTable"] table').first
    cells = first_row(table)
    assert 20 <= float(cells["age"]) <= 90 and cells["gender"] in ("male", "female"), cells
    no_exception(page)
    shot(page, "webcam")


def test_metrics_page_charts(page):
    open_page(page, "Metrics", "Model metrics")
    metrics = json.loads((MODELS / "metrics.json").read_text())
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible(timeout=60_000)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 6
    expect(page.get_by_text(f"{metrics['age_mae']:.2f} y").first).to_be_visible()
    expect(page.get_by_text(f"{metrics['gender_accuracy']:.1%}").first).to_be_visible()
    expect(page.get_by_text("Measured on the UTKFace test split").first).to_be_visible()
    no_exception(page)
    shot(page, "metrics")


def test_compare_page(page):
    open_page(page, "Compare", "Compare predictions with known facts")
    table = page.locator('[data-testid="stTable"] table').first
    expect(table).to_be_visible(timeout=120_000)
    expect(table.locator("tbody tr")).to_have_count(5)
    expect(table.get_by_text("grace_hopper.jpg")).to_be_visible()
    no_exception(page)
    shot(page, "compare")
