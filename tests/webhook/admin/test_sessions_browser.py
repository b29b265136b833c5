"""A counsellor runs a session in a real browser (Debian's chromium, Playwright), against the
real service: opens it in the form, sees it listed with its seats, sees who booked it, and
marks them present once it has begun. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize

from bot.accounts.users import Passwords
from bot.clock import PARIS
from bot.settings import Settings
from tests.auxil.admin_browser import COUNSELLOR, PASSWORD
from tests.auxil.chat_page import PHONE, converse
from tests.auxil.clock import ManualClock
from tests.auxil.page_problems import Problems
from tests.auxil.paths import ARTIFACTS
from tests.auxil.servers import serve
from webhook.app import create_app

pytestmark = pytest.mark.browser

LAPTOP = ViewportSize(width=1280, height=900)
PLACE = "12 rue Hoche, 93500 Pantin, salle 2"
# Every control a person can reach, and whether something names it for a screen reader.
UNNAMED_CONTROLS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button, a[href]')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.textContent.trim())
  .map(e => e.outerHTML)"""


@dataclass(frozen=True)
class Live:
    url: str
    # The admin view's time: moved past the session's start to mark attendance.
    clock: ManualClock


@pytest.fixture
def live(chromium: Path, counsellor_and_poissy: Settings, passwords: Passwords) -> Iterator[Live]:
    clock = ManualClock()
    app = create_app(counsellor_and_poissy, passwords=passwords, clock=clock)
    with serve(app) as url:
        yield Live(url, clock)


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=True)


async def every_control_is_named(page: Page) -> None:
    assert await page.evaluate(UNNAMED_CONTROLS) == []


async def test_a_counsellor_opens_a_session_sees_who_booked_and_marks_them_present(
    live: Live, browser: Browser
) -> None:
    context = await browser.new_context(viewport=LAPTOP, locale="fr-FR")
    page = await context.new_page()
    problems = Problems()
    problems.watch(page)

    await page.goto(f"{live.url}/admin/sessions")
    await page.get_by_label("E-mail").fill(COUNSELLOR)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url("**/admin/sessions")
    await page.get_by_text("Aucune séance à venir.").wait_for()
    await every_control_is_named(page)

    # In two hours, Paris time: soon enough to move the clock past it without signing in again.
    start = (live.clock() + timedelta(hours=2)).astimezone(PARIS)
    await page.get_by_label("L'École du Web").check()
    await page.get_by_label("Site").select_option("pantin")
    await page.get_by_label("Date", exact=True).fill(start.strftime("%Y-%m-%d"))
    await page.get_by_label("Heure (Paris)").fill(start.strftime("%H:%M"))
    await page.get_by_label("Places", exact=True).fill("12")
    await page.get_by_label("Lieu (adresse, salle)").fill(PLACE)
    await shot(page, "session-form")
    await page.get_by_role("button", name="Ouvrir la séance").click()
    await page.get_by_text("Séance ouverte").wait_for()
    await every_control_is_named(page)

    await page.get_by_role("link", name="Toutes les séances").click()
    row = page.locator("tbody tr", has_text=PLACE)
    await row.wait_for()
    assert await row.locator("td").nth(0).inner_text() == (
        start.strftime("%d/%m/%Y %H:%M") + "\n60 min"
    )
    assert [await row.locator("td").nth(n).inner_text() for n in (4, 5, 6)] == ["12", "0", "12"]
    await every_control_is_named(page)
    await shot(page, "sessions")

    # Samir books it in the web chat, on his phone.
    phone = await browser.new_context(viewport=PHONE, locale="fr-FR")
    chat = await phone.new_page()
    problems.watch(chat)
    await chat.goto(live.url + "/")
    steps = await converse(chat, problems)
    assert any(step.startswith("session (choice)") for step in steps), steps
    await chat.get_by_text("C'est réservé ✅").wait_for()
    calendar = chat.get_by_role("link", name="Ajouter à mon agenda")
    await calendar.wait_for()
    await chat.screenshot(path=str(ARTIFACTS / "chat-session-booked.png"), full_page=True)
    await phone.close()

    await page.reload()
    assert [await row.locator("td").nth(n).inner_text() for n in (4, 5, 6)] == ["12", "1", "11"]
    await row.get_by_role("link").first.click()
    person = page.locator("tbody tr", has_text="Samir")
    await person.wait_for()
    assert "chat du site" in await person.inner_text()
    await page.get_by_text("Les présences se notent une fois la séance commencée.").wait_for()

    # The session has begun: attendance can be marked.
    live.clock.advance(timedelta(hours=2, minutes=15))
    await page.reload()
    await person.get_by_role("button", name="Présent").click()
    await page.get_by_text("Présence enregistrée.").wait_for()
    assert "Présent" in await person.locator(".badge").last.inner_text()
    await every_control_is_named(page)
    await shot(page, "session-attendance")

    # The lead's page is one click away.
    await person.get_by_role("link", name="Samir").click()
    await page.get_by_role("heading", name="Coordonnées").wait_for()
    await page.wait_for_load_state("networkidle")

    assert problems.found == []
    await context.close()
