"""Debian's chromium for the browser tests of the web service (Playwright, no download).

Without /usr/bin/chromium a browser test is skipped, unless AIGUILLAGE_REQUIRE_BROWSER=1 (CI),
where it fails instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} not found: `apt-get install chromium` to run the browser tests"
    if os.environ.get("AIGUILLAGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"AIGUILLAGE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()
