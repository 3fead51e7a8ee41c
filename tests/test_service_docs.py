"""The service's interactive docs load in Chromium with every other host blocked, from the package alone."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.service_server import server
from tests.test_dashboard import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

pytestmark = pytest.mark.slow


def test_docs_load_offline_with_no_request_to_another_host():
    with server() as running, sync_playwright() as p:
        # No name resolves but the server's address, and any request elsewhere is aborted and recorded.
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        page = browser.new_page(viewport={"width": 1300, "height": 1800})
        requested, elsewhere = [], []
        page.on("request", lambda request: requested.append(request.url))

        def block_elsewhere(route):
            if route.request.url.startswith(running.url + "/"):
                return route.continue_()
            elsewhere.append(route.request.url)
            return route.abort()

        page.route("**/*", block_elsewhere)
        page.goto(f"{running.url}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("agegender", timeout=60_000)
        expect(page.locator(".swagger-ui .opblock")).to_have_count(9, timeout=30_000)
        expect(page.get_by_text("/v1/faces/batch")).to_be_visible()
        page.locator(".opblock-summary-path", has_text="/v1/faces").first.click()
        expect(page.get_by_text("Every face in one image").first).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "service_docs.png"))
        browser.close()
    assert elsewhere == [] and all(url.startswith(running.url + "/") for url in requested), requested
    assert f"{running.url}/openapi.json" in requested and f"{running.url}/static/swagger-ui-bundle.js" in requested
