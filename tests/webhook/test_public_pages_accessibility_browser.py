"""The pages people reach without the chat, checked with axe-core in a real browser: the privacy
notice, the accessibility statement and a booking's /rdv/<token> page, in light and dark mode.

Runs Debian's chromium through Playwright; skipped without it (or without axe-core) unless
AIGUILLAGE_REQUIRE_BROWSER=1 (CI), where it fails instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Literal

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser

from bot.appointments.links import make_token
from bot.clock import utcnow
from bot.settings import Settings
from bot.storage.database import open_database
from tests.auxil.axe import assert_accessible
from tests.auxil.chat_page import PHONE
from tests.auxil.page_problems import Problems
from tests.auxil.servers import serve
from tests.auxil.sessions import web_chat_booking
from webhook.app import create_app

pytestmark = pytest.mark.browser

Scheme = Literal["light", "dark"]
SCHEMES: tuple[Scheme, ...] = ("light", "dark")


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"accessibility_contact": "a11y@poles.example"}))


@pytest.fixture
def live_server(chromium: Path, app: FastAPI) -> Iterator[str]:
    """The whole service on a free local port, served by uvicorn from a thread."""
    with serve(app) as url:
        yield url


async def _appointment_path(app: FastAPI, settings: Settings) -> str:
    """A booking's page, as the link in its SMS reminder opens it."""
    database = open_database(settings.database_url)
    try:
        starts_at = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
        booking, session = await web_chat_booking(
            database, starts_at=starts_at, sms_phone="+33612345678"
        )
    finally:
        await database.close()
    key = app.state.signing_key.value.get_secret_value().encode("utf-8")
    return f"/rdv/{make_token(booking.id, session.ends_at, key)}"


async def _check(browser: Browser, url: str, scheme: Scheme, *, heading: str) -> None:
    context = await browser.new_context(viewport=PHONE, color_scheme=scheme, locale="fr-FR")
    try:
        page = await context.new_page()
        problems = Problems()
        problems.watch(page)
        response = await page.goto(url)
        assert response is not None
        assert response.status == 200
        assert await page.get_by_role("heading", level=1).inner_text() == heading
        await assert_accessible(page)
        # No horizontal scrolling on a phone: everything fits its width.
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"
        assert problems.found == []
    finally:
        await context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_the_privacy_notice_is_accessible(
    live_server: str, browser: Browser, scheme: Scheme
) -> None:
    url = f"{live_server}/confidentialite"
    await _check(browser, url, scheme, heading="Tes données et Aiguillage")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    ("language", "heading"),
    [("fr", "Déclaration d'accessibilité"), ("en", "Accessibility statement")],
)
async def test_the_accessibility_statement_is_accessible(
    live_server: str, browser: Browser, scheme: Scheme, language: str, heading: str
) -> None:
    url = f"{live_server}/accessibilite?lang={language}"
    await _check(browser, url, scheme, heading=heading)


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_a_booking_s_page_is_accessible(
    live_server: str, browser: Browser, app: FastAPI, settings: Settings, scheme: Scheme
) -> None:
    path = await _appointment_path(app, settings)
    await _check(browser, f"{live_server}{path}", scheme, heading="Ton rendez-vous")
