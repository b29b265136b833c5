"""/docs in a real browser (Debian's chromium): Swagger UI draws the API under its CSP, offline.

Skipped without /usr/bin/chromium, unless AIGUILLAGE_REQUIRE_BROWSER=1 (CI), where it fails.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser

from bot.settings import Settings
from tests.auxil.servers import serve
from webhook.app import create_app

pytestmark = pytest.mark.browser


async def test_swagger_ui_draws_every_route_with_scripts_from_the_service_only(
    browser: Browser, settings: Settings
) -> None:
    with serve(create_app(settings, background=False)) as url:
        page = await browser.new_page()
        hosts: set[str] = set()
        errors: list[str] = []
        page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        await page.goto(f"{url}/docs")
        # Swagger UI has run and read /openapi.json: the API's routes are drawn.
        await page.wait_for_selector(".opblock", timeout=15_000)
        paths = await page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/orient" in [path.replace("\u200b", "") for path in paths], paths
        title = await page.locator(".title").first.inner_text()
        assert "Aiguillage" in title
        await page.close()
    assert hosts == {urlsplit(url).netloc}, hosts
    # Not one error, CSP violations included (Chromium reports them on the console).
    assert errors == []
