"""Run inside a network namespace with no network (`unshare -n python -m tests.offline_session OUT`): the command
line on a photo, then the dashboard, driven by Chromium to analyse an upload. Writes what happened to OUT (JSON)."""

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from agegender.paths import REPO
from tests.conftest import HOPPER


def main(out: Path) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    report = {}
    cli = subprocess.run([sys.executable, "-m", "agegender", "predict", str(HOPPER), "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    report["cli_status"], report["cli_rows"] = cli.returncode, cli.stdout.splitlines()
    port = 8765
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", f"--server.port={port}"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                report["health"] = urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.5)
        from playwright.sync_api import sync_playwright

        from tests.test_dashboard import CHROMIUM, CHROMIUM_ARGS

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{url}/upload")
            page.get_by_role("heading", name="Upload images").wait_for(timeout=120_000)
            page.locator('input[type="file"]').set_input_files(str(HOPPER))
            page.get_by_text("1 face(s)").wait_for(timeout=120_000)
            report["page_faces"] = page.get_by_text("1 face(s)").count()
            browser.close()
    finally:
        server.terminate()
        report["server_log"] = server.communicate(timeout=30)[0][-3000:]
    out.write_text(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
