"""The partners' links and posters in a real browser (Debian's chromium, Playwright), with
every channel on: the page stays readable with wa.me's long links, and the poster's three QR
codes and their links print on one A4 page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, Page, ViewportSize
from pydantic import SecretStr

from bot.accounts.users import Passwords
from bot.settings import Settings
from tests.auxil.admin_browser import COUNSELLOR, PASSWORD
from tests.auxil.page_problems import Problems
from tests.auxil.paths import ARTIFACTS
from tests.auxil.servers import serve
from webhook.app import create_app

pytestmark = pytest.mark.browser

LAPTOP = ViewportSize(width=1280, height=800)
# A4 less the poster's 12 mm margins (webhook/static/poster.css), in CSS pixels (96 per inch).
PRINTED_AREA = ViewportSize(width=round(186 / 25.4 * 96), height=round(273 / 25.4 * 96))
# A PDF's pages, without its page tree (/Type /Pages).
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@pytest.fixture
def live(chromium: object, counsellor_and_poissy: Settings, passwords: Passwords) -> Iterator[str]:
    app: FastAPI = create_app(counsellor_and_poissy, passwords=passwords)
    with serve(app) as url:
        # Every link on: the longest poster. Set once started, as the pages read them: the
        # service's WhatsApp channel itself has nothing to do with a poster.
        app.state.settings = counsellor_and_poissy.model_copy(
            update={
                "telegram_bot_username": "AiguillageBot",
                "public_url": "https://aiguillage.example",
                "whatsapp_token": SecretStr("EAAtest"),
                "whatsapp_phone_number_id": "106540352242922",
                "whatsapp_app_secret": SecretStr("test-app-secret"),
                "whatsapp_verify_token": SecretStr("test-verify-token"),
                "whatsapp_number": "33612345678",
            }
        )
        yield url


@pytest.fixture
async def counsellor(live: str, browser: Browser) -> AsyncIterator[Page]:
    """A counsellor signed in on a laptop; the page must have caused no browser problem."""
    context = await browser.new_context(viewport=LAPTOP, locale="fr-FR")
    page = await context.new_page()
    problems = Problems()
    problems.watch(page)
    await page.goto(f"{live}/admin/referrers")
    await page.get_by_label("E-mail").fill(COUNSELLOR)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url("**/admin/referrers")
    # Its icon too: the browser fetches it after the load event, and a test going straight to
    # the next page would cut that fetch (a failed request, though nobody would see it).
    await page.wait_for_load_state("networkidle")
    yield page
    assert problems.found == []
    await context.close()


async def test_the_partners_page_shows_the_whatsapp_link_without_widening_the_table(
    live: str, counsellor: Page
) -> None:
    page = counsellor
    link = page.get_by_role("link", name="https://wa.me/33612345678?text=Bonjour")
    await link.wait_for()
    assert "code%20partenaire%20%3A%20ML_POISSY" in (await link.get_attribute("href") or "")
    # The long link wraps in its cell: the counts stay in view, with no sideways scrolling.
    table = page.locator(".table-wrap")
    assert await table.evaluate("e => e.scrollWidth <= e.clientWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "admin-referrers-whatsapp.png"), full_page=True)


async def test_the_poster_with_three_qr_codes_prints_on_one_a4_page(
    live: str, counsellor: Page
) -> None:
    page = counsellor
    await page.goto(f"{live}/admin/referrers/ML_POISSY/poster")

    images = page.locator("img.poster-qr")
    assert await images.count() == 3
    for index in range(3):
        image = images.nth(index)
        await image.wait_for()
        assert await image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert await page.locator("figcaption").all_inner_texts() == [
        "WhatsApp",
        "Telegram",
        "Dans le navigateur",
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "admin-poster-whatsapp.png"), full_page=True)

    # Laid out as on paper: the A4 page less its margins (186 x 273 mm), in print media.
    await page.set_viewport_size(PRINTED_AREA)
    await page.emulate_media(media="print")
    outside = await page.evaluate(
        """([width, height]) => [...document.querySelectorAll('.poster *')]
            .map(e => e.getBoundingClientRect())
            .filter(r => r.width && (r.left < 0 || r.right > width || r.bottom > height))
            .length""",
        [PRINTED_AREA["width"], PRINTED_AREA["height"]],
    )
    assert outside == 0
    await page.screenshot(path=str(ARTIFACTS / "admin-poster-whatsapp-print.png"))
    # Printed as an operator would (Ctrl+P, A4 from the page's own @page rule).
    pdf = await page.pdf(prefer_css_page_size=True, print_background=True)
    await asyncio.to_thread((ARTIFACTS / "admin-poster-whatsapp.pdf").write_bytes, pdf)
    assert len(PDF_PAGE.findall(pdf)) == 1
