"""/docs in a real browser (Debian's chromium): Swagger UI draws the API under its CSP, offline.

Skipped without /usr/bin/chromium, unless AIGUILLAGE_REQUIRE_BROWSER=1 (CI), where it fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import async_playwright

from bot.settings import Settings
from tests.auxil.servers import serve
from webhook.app import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"]


@pytest.fixture
def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} not found: `apt-get install chromium` to run the browser tests"
    if os.environ.get("AIGUILLAGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"AIGUILLAGE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


async def test_swagger_ui_draws_every_route_with_scripts_from_the_service_only(
    chromium: Path, settings: Settings
) -> None:
    with serve(create_app(settings, background=False)) as url:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page()
                hosts: set[str] = set()
                errors: list[str] = []
                page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.on(
                    "console",
                    lambda message: (
                        errors.append(message.text) if message.type == "error" else None
                    ),
                )
                await page.goto(f"{url}/docs")
                # Swagger UI has run and read /openapi.json: the API's routes are drawn.
                await page.wait_for_selector(".opblock", timeout=15_000)
                paths = await page.locator(".opblock-summary-path").all_inner_texts()
                assert "/api/orient" in [path.replace("\u200b", "") for path in paths], paths
                title = await page.locator(".title").first.inner_text()
                assert "Aiguillage" in title
            finally:
                await browser.close()
    assert hosts == {urlsplit(url).netloc}, hosts
    # Not one error, CSP violations included (Chromium reports them on the console).
    assert errors == []
