"""The web chat against RGAA 4.1 (WCAG 2.1 AA) in a real browser: axe-core on every state that
matters, in light and dark, in French and English; then what axe cannot see: a conversation
from the keyboard alone, the focus and the live region, reflow at 320 px and at 200 % zoom,
reduced motion, and the language of each message.

Debian's chromium through Playwright; skipped without it (or without axe-core), unless
AIGUILLAGE_REQUIRE_BROWSER=1 (CI), where it fails instead.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.async_api import Browser, Page, Route, ViewportSize

from bot.settings import Settings
from flows.i18n import gettext
from tests.auxil.axe import assert_accessible
from tests.auxil.chat_page import (
    IDLE,
    MAX_STEPS,
    PHONE,
    TURN_TIMEOUT_MS,
    answer,
    answer_with_keys,
    converse,
    focused_is,
    tab_to,
)
from tests.auxil.page_problems import Problems
from tests.auxil.servers import serve
from webhook.app import create_app

pytestmark = pytest.mark.browser

Scheme = Literal["light", "dark"]
# The smallest screen WCAG 1.4.10 asks for (a 1280 px window at 400 %, or an old phone).
NARROW = ViewportSize(width=320, height=568)
# A 1280 × 800 window zoomed to 200 %: Chromium's page zoom halves the CSS viewport and doubles
# the device pixel ratio, which is exactly this context.
ZOOMED = ViewportSize(width=640, height=400)
# The live region, and what sits in the scrolling history outside it.
LIVE_LOG = '[data-testid="chat-log"] [role="log"][aria-live="polite"]'
# The turns of the conversation (not the poll for a counsellor's messages).
TURNS = re.compile(r"/api/chat\?")
NO_HORIZONTAL_SCROLL = (
    "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)


@pytest.fixture
def live_server(chromium: Path, settings: Settings) -> Iterator[str]:
    """The whole service on a free local port, served by uvicorn from a thread."""
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture
async def phone(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A phone-sized page; ``indirect`` parameters may set the colour scheme."""
    scheme: Scheme = getattr(request, "param", "light")
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR", color_scheme=scheme
    )
    try:
        yield await context.new_page()
    finally:
        await context.close()


def _watched(page: Page) -> Problems:
    problems = Problems()
    problems.watch(page)
    return problems


async def _until_field(page: Page, field: str, steps: list[str]) -> None:
    """Answer as Samir until the question about ``field`` is on screen."""
    for _ in range(MAX_STEPS):
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        question = page.get_by_test_id("question").first
        if await question.get_attribute("data-field") == field:
            return
        await answer(page, question, steps)
    pytest.fail(f"never asked about {field}: {steps}")


async def _send_text(page: Page, text: str) -> None:
    await page.get_by_test_id("text-input").fill(text)
    await page.get_by_test_id("send-button").click()


@pytest.mark.parametrize(
    ("language", "phone"),
    [("fr", "light"), ("fr", "dark"), ("en", "light")],
    indirect=["phone"],
    ids=["french-light", "french-dark", "english-light"],
)
async def test_axe_finds_nothing_in_any_state_of_a_conversation(
    live_server: str, phone: Page, language: str
) -> None:
    page = phone
    problems = _watched(page)
    await page.goto(f"{live_server}/?lang={language}")
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    assert await page.locator("html").get_attribute("lang") == language
    # At the start: the welcome and the consent question's buttons.
    assert await page.get_by_test_id("choice-button").count() > 0
    await assert_accessible(page)
    steps: list[str] = []

    # A wrong answer, kindly asked again.
    await _until_field(page, "postal_code", steps)
    await _send_text(page, "123")
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    await assert_accessible(page)

    # The connection fails: the answer is taken back and an alert says so.
    await page.route(TURNS, lambda route: route.abort("connectionreset"))
    await _send_text(page, "93500")
    await page.get_by_test_id("error-message").wait_for(timeout=TURN_TIMEOUT_MS)
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    await assert_accessible(page)
    await page.unroute(TURNS)
    # That failure was the test's own doing; anything else still counts.
    problems.found = [
        found
        for found in problems.found
        if "/api/chat" not in found and "ERR_CONNECTION_RESET" not in found
    ]
    await page.get_by_test_id("send-button").click()  # the answer is back in the field
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    assert await page.get_by_test_id("error-message").count() == 0

    # Several answers at once, one of them pressed.
    await _until_field(page, "interests", steps)
    question = page.get_by_test_id("question")
    await question.get_by_test_id("choice-button").first.click()
    assert await question.locator('[aria-pressed="true"]').count() == 1
    await assert_accessible(page)
    await question.get_by_test_id("multi-submit").click()

    # The orientation, then the end.
    await converse(page, problems)
    assert await page.get_by_test_id("done-restart").is_visible()
    await assert_accessible(page)
    assert problems.found == [], steps


async def test_a_whole_conversation_from_the_keyboard_alone(live_server: str, phone: Page) -> None:
    page = phone
    problems = _watched(page)
    await page.goto(f"{live_server}/")
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    # On load the page takes no focus: the person starts with Tab, the chrome first.
    assert await page.evaluate("document.activeElement === document.body")
    await page.keyboard.press("Tab")
    assert await focused_is(page, page.get_by_test_id("lang-button"))
    # Every control on the way is labelled for a screen reader, and reached by Tab.
    for test_id, name in [
        ("back-button", "Retour"),
        ("restart-button", "Recommencer"),
        ("human-button", "Parler à un conseiller"),
    ]:
        await page.keyboard.press("Tab")
        assert await focused_is(page, page.get_by_role("button", name=name, exact=True)), test_id
    # The history itself, to scroll it from the keyboard.
    await page.keyboard.press("Tab")
    history = page.get_by_role("region", name="Historique de la conversation")
    assert await focused_is(page, history)
    # Shift+Tab goes back the same way.
    await page.keyboard.press("Shift+Tab")
    assert await focused_is(page, page.get_by_test_id("human-button"))

    live = page.locator(LIVE_LOG)
    steps: list[str] = []
    for _ in range(MAX_STEPS):
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        assert problems.found == [], f"after {steps}"
        if await page.locator("#app").get_attribute("data-state") == "done":
            break
        question = page.get_by_test_id("question")
        assert await question.count() == 1, steps
        kind = await question.get_attribute("data-kind")
        offered = question.get_by_test_id("choice-button")
        if kind in ("choice", "multi"):
            # The group of buttons is named for what to do with it, each button by its words.
            group_name = "Choisis une réponse" if kind == "choice" else "Choisis une ou plusieurs"
            assert await page.get_by_role("group", name=group_name).count() == 1
            for label in await offered.all_inner_texts():
                assert await question.get_by_role("button", name=label.strip()).count() >= 1
        if steps:
            # After each answer the focus is on the new question: its first button, or the
            # answer field when it asks for words.
            expected = offered.first if kind in ("choice", "multi") else None
            target = expected or page.get_by_test_id("text-input")
            assert await focused_is(page, target), f"focus lost after {steps}"
        # The question was added to the live region (read once, politely), its buttons were
        # not: they get the focus instead, so nothing is read twice.
        last_said = await page.get_by_test_id("bot-message").last.inner_text()
        assert await live.get_by_test_id("bot-message").last.inner_text() == last_said
        assert await live.get_by_test_id("question").count() == 0
        await answer_with_keys(page, question, steps)
    else:
        pytest.fail(f"not done after {MAX_STEPS} answers: {steps}")

    # The end: the button to start again has the focus, the orientation is in the live region.
    assert await focused_is(page, page.get_by_test_id("done-restart"))
    assert await live.get_by_test_id("bot-message").count() > 3
    assert await page.get_by_test_id("user-message").filter(has_text="Samir").count() == 1
    # Past the end of the page come the accessibility statement and the privacy notice.
    statement = page.get_by_role("link", name="Accessibilité")
    await tab_to(page, statement)
    assert await statement.is_visible()
    assert await statement.get_attribute("href") == "/accessibilite?lang=fr"
    await page.keyboard.press("Tab")
    assert await focused_is(page, page.get_by_role("link", name="Confidentialité"))
    assert problems.found == [], steps


async def test_a_failed_turn_is_an_alert_outside_the_live_region(
    live_server: str, phone: Page
) -> None:
    page = phone
    await page.goto(f"{live_server}/")
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    await page.route(TURNS, lambda route: route.abort("connectionreset"))
    await page.get_by_test_id("choice-button").first.focus()
    await page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    await alert.wait_for(timeout=TURN_TIMEOUT_MS)
    assert "connexion a coupé" in await alert.inner_text()
    # Read once as an alert, not a second time as an addition to the log.
    assert await page.locator(LIVE_LOG).get_by_role("alert").count() == 0
    # The question is back, its first button focused: the person tries again from there.
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    assert await focused_is(page, page.get_by_test_id("choice-button").first)


@pytest.mark.parametrize(
    ("viewport", "scale"),
    [(NARROW, 2), (ZOOMED, 2)],
    ids=["320px", "200%-zoom"],
)
async def test_usable_without_horizontal_scrolling(
    live_server: str, browser: Browser, viewport: ViewportSize, scale: int
) -> None:
    context = await browser.new_context(
        viewport=viewport, device_scale_factor=scale, locale="fr-FR"
    )
    try:
        page = await context.new_page()
        problems = _watched(page)
        await page.goto(f"{live_server}/")
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        assert await page.evaluate(NO_HORIZONTAL_SCROLL)
        steps: list[str] = []
        await _until_field(page, "interests", steps)
        assert await page.evaluate(NO_HORIZONTAL_SCROLL), steps
        # The answer box and the question's buttons can be seen without scrolling sideways.
        await page.get_by_test_id("choice-button").last.scroll_into_view_if_needed()
        for control in (
            page.get_by_test_id("choice-button").last,
            page.get_by_test_id("text-input"),
            page.get_by_test_id("send-button"),
        ):
            box = await control.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= viewport["width"], await control.inner_text()
        await converse(page, problems)
        assert await page.evaluate(NO_HORIZONTAL_SCROLL), steps
        assert await page.get_by_test_id("done-restart").is_visible()
        assert problems.found == []
    finally:
        await context.close()


COMPUTED_MOTION = """(nodes) => nodes.map((node) => {
    const style = getComputedStyle(node);
    return [style.animationName, style.transitionDuration];
})"""


@pytest.mark.parametrize("reduced", [True, False], ids=["reduce", "no-preference"])
async def test_reduced_motion_stops_the_typing_dots(
    live_server: str, browser: Browser, reduced: bool
) -> None:
    context = await browser.new_context(
        viewport=PHONE, reduced_motion="reduce" if reduced else "no-preference"
    )
    try:
        page = await context.new_page()
        await page.goto(f"{live_server}/")
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        # Hold the next answer so the "typing" dots stay on screen while they are looked at.
        release = asyncio.Event()

        async def held(route: Route) -> None:
            await release.wait()
            await route.continue_()

        await page.route(TURNS, held)
        await page.get_by_test_id("choice-button").first.click()
        await page.get_by_test_id("typing").wait_for(state="attached")
        dots = await page.locator('[data-testid="typing"] .dot').evaluate_all(COMPUTED_MOTION)
        everything = await page.locator("body *").evaluate_all(COMPUTED_MOTION)
        release.set()
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        if reduced:
            assert all(name == "none" for name, _ in everything), everything
            assert all(float(duration.rstrip("s")) == 0 for _, duration in everything)
        else:
            # Without the preference the dots do blink: the check above can fail.
            assert {name for name, _ in dots} == {"blink"}
    finally:
        await context.close()


async def test_each_message_is_marked_with_its_language(live_server: str, phone: Page) -> None:
    page = phone
    problems = _watched(page)
    await page.goto(f"{live_server}/")
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    await answer(page, page.get_by_test_id("question"), [])  # consent: yes, in French
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    bubbles = page.locator(".bubble")
    french = await bubbles.count()
    assert await bubbles.evaluate_all("(nodes) => nodes.map((n) => n.lang)") == ["fr"] * french
    # The button offers English, named as it reads, in English.
    switch = page.get_by_test_id("lang-button")
    assert await switch.inner_text() == "EN"
    assert await switch.get_attribute("lang") == "en"
    assert await page.get_by_role("button", name="EN – English version").count() == 1
    await switch.focus()
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.get_by_test_id("lang-button").get_attribute("lang") == "fr"
    await answer(page, page.get_by_test_id("question"), [])
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    languages = await bubbles.evaluate_all("(nodes) => nodes.map((n) => n.lang)")
    # What was said in French stays marked French; the rest is English.
    assert languages[:french] == ["fr"] * french
    assert set(languages[french:]) == {"en"}, languages
    assert len(languages) > french + 1
    # The statement's link follows the page's language.
    statement = page.get_by_test_id("accessibility-link")
    assert await statement.inner_text() == gettext("Accessibilité", "en")
    assert await statement.get_attribute("href") == "/accessibilite?lang=en"
    assert problems.found == []
