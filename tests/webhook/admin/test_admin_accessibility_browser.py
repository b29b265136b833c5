"""Every admin page against RGAA 4.1 (WCAG 2.1 AA) in a real browser (Debian's chromium), on
the real service with something on each page: axe-core on each page and state, and what axe
cannot see: signing in and reading a transcript with the keyboard alone, a visible focus, and
no sideways scrolling of the page on a 320 px wide screen.

The admin view has no dark scheme (admin.css says ``color-scheme: light``): a dark-mode browser
gets the same light page, so its contrast is checked once, in light.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

from bot.accounts.users import Passwords
from bot.settings import Settings
from tests.auxil.admin_browser import COUNSELLOR, PASSWORD
from tests.auxil.admin_pages import (
    ADMIN,
    PARTNER,
    AdminWorld,
    add_staff,
    fill_the_pages,
    sign_in_with_the_form,
)
from tests.auxil.axe import assert_accessible
from tests.auxil.page_problems import Problems
from tests.auxil.paths import ARTIFACTS
from tests.auxil.servers import serve
from webhook.app import create_app

pytestmark = pytest.mark.browser

LAPTOP = ViewportSize(width=1280, height=900)
# The narrowest screen WCAG 1.4.10 (reflow) asks for: 320 CSS pixels.
NARROW = ViewportSize(width=320, height=640)


@pytest.fixture
async def world(
    chromium: Path, counsellor_and_poissy: Settings, passwords: Passwords
) -> AsyncIterator[AdminWorld]:
    settings = counsellor_and_poissy.model_copy(update={"telegram_bot_username": "AiguillageBot"})
    await add_staff(settings, passwords)
    with serve(create_app(settings, passwords=passwords)) as url:
        yield await fill_the_pages(url, settings)


@pytest.fixture
async def laptop(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport=LAPTOP, locale="fr-FR")
    yield context
    await context.close()


def staff_pages(world: AdminWorld) -> Iterator[tuple[str, str]]:
    """Each page an admin sees (name, path), with what makes it worth checking."""
    yield "leads", "/admin/leads"
    yield "leads filtered", "/admin/leads?status=appointment&site=pantin&q=samir&human=1"
    yield "leads without result", "/admin/leads?status=enrolled"
    yield "lead", f"/admin/leads/{world.lead_id}"
    yield "partners", "/admin/referrers"
    yield "poster", "/admin/referrers/ML_POISSY/poster"
    yield "funnel", "/admin/funnel"
    yield "funnel filtered", "/admin/funnel?referrer=ML_POISSY&language=fr"
    yield "funnel without result", "/admin/funnel?from=2001-01-01&to=2001-01-02"
    yield "deliveries", "/admin/deliveries"
    yield "data", "/admin/data"
    yield "sessions", "/admin/sessions"
    yield "session with a booking", f"/admin/sessions/{world.session_id}"


async def test_every_admin_page_passes_axe(world: AdminWorld, laptop: BrowserContext) -> None:
    page = await laptop.new_page()
    problems = Problems()
    problems.watch(page)

    # The login form, then with its error.
    await page.goto(f"{world.url}/admin/login")
    await assert_accessible(page)
    await page.get_by_label("E-mail").fill(ADMIN)
    await page.get_by_label("Mot de passe").fill("not the password")
    await page.get_by_role("button", name="Se connecter").click()
    await page.get_by_role("alert").wait_for()
    await assert_accessible(page)

    await sign_in_with_the_form(page, world.url, ADMIN, "/admin/leads")
    failed: list[str] = []
    for name, path in staff_pages(world):
        await page.goto(world.url + path)
        try:
            await assert_accessible(page)
        except AssertionError as error:
            failed.append(f"{name}: {error}")

    # The confirmation before a session is cancelled.
    await page.goto(f"{world.url}/admin/sessions/{world.session_id}")
    await page.get_by_role("button", name="Annuler la séance…").click()
    await page.get_by_role("button", name="Confirmer l'annulation").wait_for()
    try:
        await assert_accessible(page)
    except AssertionError as error:
        failed.append(f"session cancel: {error}")

    # In English (the choice is kept in a cookie: last).
    await page.goto(f"{world.url}/admin/leads/{world.lead_id}?lang=en")
    try:
        await assert_accessible(page)
    except AssertionError as error:
        failed.append(f"lead in English: {error}")
    assert failed == [], "\n\n".join(failed)
    # The wrong password's 401 is the only error the browser may have seen.
    assert [p for p in problems.found if "401" not in p] == []


async def test_the_pages_of_a_counsellor_and_of_a_partner_pass_axe(
    world: AdminWorld, laptop: BrowserContext, browser: Browser
) -> None:
    counsellor = await laptop.new_page()
    await sign_in_with_the_form(counsellor, world.url, COUNSELLOR, "/admin/leads")
    await assert_accessible(counsellor)
    await counsellor.goto(f"{world.url}/admin/leads/{world.lead_id}")
    await assert_accessible(counsellor)
    # A page the account may not open: the refusal.
    await counsellor.goto(f"{world.url}/admin/data")
    await counsellor.get_by_role("heading", name="Accès refusé").wait_for()
    await assert_accessible(counsellor)
    await counsellor.close()

    partner_context = await browser.new_context(viewport=LAPTOP, locale="fr-FR")
    partner = await partner_context.new_page()
    await sign_in_with_the_form(partner, world.url, PARTNER, "/admin/leads")
    await assert_accessible(partner)
    await partner.goto(f"{world.url}/admin/leads/{world.lead_id}")
    await partner.get_by_role("heading", name="Suivi d'une orientation").wait_for()
    await assert_accessible(partner)
    await partner_context.close()


async def tab_to(page: Page, selector: str, *, presses: int = 60) -> None:
    """Press Tab until the focus is on ``selector``; each stop on the way must show its focus."""
    for _ in range(presses):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED)
        assert focused["outline"], f"no visible focus on {focused['html']}"
        if await page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


# The focused element, and whether an outline shows it (admin.css's :focus-visible).
FOCUSED = """() => {
    const e = document.activeElement, style = getComputedStyle(e);
    return {html: e.outerHTML.slice(0, 120),
            outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2};
}"""


async def test_signing_in_and_reading_a_transcript_with_the_keyboard_alone(
    world: AdminWorld, laptop: BrowserContext
) -> None:
    page = await laptop.new_page()
    await page.goto(f"{world.url}/admin/leads")

    # The skip link comes first, and leads past the header.
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    assert await skip.evaluate("e => e === document.activeElement")
    assert await skip.is_visible()
    await tab_to(page, "input[name=email]")
    await page.keyboard.type(COUNSELLOR)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/admin/leads")

    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    # Past the skip link, the next stop is in the page's content, not the header's menu.
    await page.keyboard.press("Tab")
    assert await page.evaluate(
        "() => document.querySelector('main').contains(document.activeElement)"
    )
    await tab_to(page, f'a[href="/admin/leads/{world.lead_id}"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/admin/leads/{world.lead_id}")

    transcript = page.get_by_role("region", name="Conversation")
    assert await transcript.evaluate("e => e.scrollHeight > e.clientHeight"), "too short to scroll"
    await tab_to(page, ".transcript")
    # It opens on the newest messages; the arrow keys scroll it back, Home to the first one.
    box = await transcript.element_handle()
    first = transcript.locator("li").first
    last = transcript.locator("li").last
    assert await last.evaluate(VISIBLE_IN_BOX)
    assert not await first.evaluate(VISIBLE_IN_BOX)
    opened_at = await transcript.evaluate("e => e.scrollTop")
    await page.keyboard.press("ArrowUp")
    # The browser may scroll smoothly: waited for, not read at once.
    await page.wait_for_function("([e, top]) => e.scrollTop < top", arg=[box, opened_at])
    await page.keyboard.press("Home")
    await page.wait_for_function(f"e => ({VISIBLE_IN_BOX})(e.querySelector('li'))", arg=box)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await transcript.screenshot(path=str(ARTIFACTS / "admin-transcript-keyboard.png"))


IN_MAIN = "() => document.querySelector('main').contains(document.activeElement)"
# Whether a message is within its transcript box's visible part.
VISIBLE_IN_BOX = """e => {
    const box = e.closest('.transcript').getBoundingClientRect(), r = e.getBoundingClientRect();
    return r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
}"""

# Wider than the window: the page itself would scroll sideways.
PAGE_OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    return document.documentElement.scrollWidth > width
        ? [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap'))
            .map(e => e.outerHTML.slice(0, 100))
        : [];
}"""


async def test_every_admin_page_fits_a_320_pixel_screen(
    world: AdminWorld, browser: Browser
) -> None:
    context = await browser.new_context(viewport=NARROW, locale="fr-FR", is_mobile=True)
    page = await context.new_page()
    await page.goto(f"{world.url}/admin/login")
    assert await page.evaluate(PAGE_OVERFLOW) == []
    await sign_in_with_the_form(page, world.url, ADMIN, "/admin/leads")
    overflowing: dict[str, list[str]] = {}
    for name, path in staff_pages(world):
        await page.goto(world.url + path)
        if found := await page.evaluate(PAGE_OVERFLOW):
            overflowing[name] = found
        if name == "lead":
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "admin-lead-320.png"), full_page=True)
        # Tables that now scroll in their box must be reachable from the keyboard.
        await assert_accessible(page)
    assert overflowing == {}, "\n".join(f"{k}: {v}" for k, v in overflowing.items())
    await context.close()
