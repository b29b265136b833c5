"""The web chat in a real browser on a phone-sized screen, against the real service.

Runs Debian's chromium through Playwright (no browser download). Without /usr/bin/chromium the
test is skipped, unless AIGUILLAGE_REQUIRE_BROWSER=1 (CI), where it fails instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from bot.clock import utcnow
from bot.conversations.counsellor import hand_back, send_staff_message
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.settings import Settings
from bot.storage.database import open_database
from tests.auxil.chat_page import IDLE, MAX_STEPS, PHONE, TURN_TIMEOUT_MS, answer, converse
from tests.auxil.page_problems import Problems
from tests.auxil.paths import ARTIFACTS
from tests.auxil.servers import serve
from webhook.app import create_app

pytestmark = pytest.mark.browser

SCREENSHOT = ARTIFACTS / "chat-phone.png"
SESSION_TOKEN = '() => JSON.parse(sessionStorage.getItem("aiguillage.chat.v2") || "{}").session'
# What the person of these tests gives that no one after them may see.
PERSONAL = ("Samir", "06 12 34 56 78", "samir@example.org", "93500")


def _personal(text: str) -> bool:
    return any(value in text for value in PERSONAL)


async def _stored(page: Page) -> str:
    """Everything the browser keeps for the site, as one text."""
    stored: str = await page.evaluate(
        "() => JSON.stringify([{...sessionStorage}, {...localStorage}])"
    )
    return stored


async def _phone(browser: Browser) -> tuple[Page, Problems, BrowserContext]:
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR"
    )
    page = await context.new_page()
    problems = Problems()
    problems.watch(page)
    return page, problems, context


async def _type(page: Page, text: str) -> None:
    await page.get_by_test_id("text-input").fill(text)
    await page.get_by_test_id("send-button").click()
    await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)


@pytest.fixture
def live_server(chromium: Path, settings: Settings) -> Iterator[str]:
    """The whole service on a free local port, served by uvicorn from a thread."""
    with serve(create_app(settings)) as url:
        yield url


async def test_a_whole_conversation_on_a_phone(live_server: str, browser: Browser) -> None:
    context = await browser.new_context(
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
    )
    page = await context.new_page()
    problems = Problems()
    problems.watch(page)
    try:
        await page.goto(f"{live_server}/")
        assert await page.get_by_test_id("text-input").get_attribute("placeholder") == (
            "Écris ta réponse…"
        )
        steps = await converse(page, problems)

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT))

        # Each bubble starts with a hidden "Toi :" for screen readers, hence endswith.
        user_messages = await page.get_by_test_id("user-message").all_text_contents()
        assert any(text.endswith("Samir") for text in user_messages), steps
        assert any(text.endswith("93500") for text in user_messages), steps
        assert await page.get_by_test_id("done-restart").is_visible()
        # The privacy notice is a link; chat commands quoted in texts (/recommencer) are not.
        links = page.get_by_test_id("bot-message").locator("a")
        paths = {text for text in await links.all_text_contents() if text.startswith("/")}
        assert paths == {"/confidentialite"}
        # Phone first: nothing sticks out sideways, so the page never scrolls horizontally.
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]

        # A finished conversation keeps none of its answers in the browser: a reload says
        # where the request stands, and shows nothing the person gave.
        assert not _personal(await _stored(page))
        await page.reload()
        await page.wait_for_selector('#app[data-state="done"]', timeout=TURN_TIMEOUT_MS)
        shown = await page.get_by_test_id("chat-log").inner_text()
        assert "Ta demande du" in shown
        assert "transmise" in shown
        assert not _personal(shown + await _stored(page))
        assert "Salut" not in shown

        # The token never travels in an address.
        token = await page.evaluate(SESSION_TOKEN)
        assert token
        assert not [url for url in problems.urls if token in url]
        assert problems.found == []
    finally:
        await context.close()


async def test_erasing_after_the_end_leaves_nothing_on_screen_or_stored(
    live_server: str, browser: Browser
) -> None:
    page, problems, context = await _phone(browser)
    try:
        await page.goto(f"{live_server}/")
        await converse(page, problems)
        await _type(page, "/supprimer")
        # The Yes/No of /supprimer, even after the end.
        question = page.get_by_test_id("question")
        await question.wait_for(timeout=TURN_TIMEOUT_MS)
        values = [
            await b.get_attribute("data-value")
            for b in await question.get_by_test_id("choice-button").all()
        ]
        assert values == ["erase_yes", "erase_no"]
        erased_token = await page.evaluate(SESSION_TOKEN)
        await question.get_by_test_id("choice-button").first.click()
        await page.wait_for_selector('#app[data-state="done"]', timeout=TURN_TIMEOUT_MS)
        shown = await page.get_by_test_id("chat-log").inner_text()
        assert "j'ai tout effacé" in shown
        assert not _personal(shown)
        assert await _stored(page) == "[{},{}]"
        await page.reload()
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        shown = await page.get_by_test_id("chat-log").inner_text()
        assert "Salut" in shown  # someone new, from the welcome
        assert not _personal(shown + await _stored(page))
        assert erased_token not in await _stored(page)
        assert problems.found == []
    finally:
        await context.close()


async def test_a_page_left_past_the_idle_window_forgets_the_person(
    live_server: str, browser: Browser
) -> None:
    page, problems, context = await _phone(browser)
    try:
        await page.goto(f"{live_server}/")
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        await page.get_by_test_id("choice-button").first.click()  # consent: yes
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        old_token = await page.evaluate(SESSION_TOKEN)
        # As if the person had left 31 minutes ago: the next one reloads the page.
        await page.evaluate(
            """() => {
              const key = "aiguillage.chat.v2";
              const saved = JSON.parse(sessionStorage.getItem(key));
              saved.activeAt -= 31 * 60 * 1000;
              sessionStorage.setItem(key, JSON.stringify(saved));
            }"""
        )
        await page.reload()
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        assert await page.get_by_test_id("user-message").count() == 0
        assert await page.evaluate(SESSION_TOKEN) != old_token
        assert problems.found == []
    finally:
        await context.close()


async def test_a_hand_back_brings_the_question_with_its_buttons(
    live_server: str, browser: Browser, settings: Settings
) -> None:
    page, problems, context = await _phone(browser)
    try:
        await page.goto(f"{live_server}/")
        await converse(page, problems)
        # After the end the person asks for a counsellor again: a question is on screen.
        await page.get_by_test_id("human-button").click()
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        asked = await page.get_by_test_id("question").get_attribute("data-field")
        # A counsellor writes from the lead page, then hands back.
        database = open_database(settings.database_url)
        service = ConversationService(database, FlowRegistry())
        try:
            async with database.transaction() as tx:
                lead = await tx.fetch_one("SELECT id FROM leads")
                assert lead is not None
                await send_staff_message(
                    tx,
                    service.writers,
                    lead["id"],
                    author="camille@poles.example",
                    body="Bonjour !",
                    now=utcnow(),
                )
                await hand_back(tx, service, lead["id"], now=utcnow())
        finally:
            await database.close()
        handed_back = page.get_by_test_id("bot-message").filter(has_text="redonné la main")
        await handed_back.wait_for(timeout=TURN_TIMEOUT_MS)
        # The question is asked again below the counsellor's words, with its buttons.
        question = page.locator('[data-testid="chat-log"] > :last-child[data-testid="question"]')
        await question.wait_for(timeout=TURN_TIMEOUT_MS)
        assert await question.get_attribute("data-field") == asked
        if await question.get_attribute("data-kind") == "choice":
            assert await question.get_by_test_id("choice-button").count() > 0
        assert problems.found == []
    finally:
        await context.close()


async def test_the_interests_question_offers_nothing_in_particular(
    live_server: str, browser: Browser
) -> None:
    page, problems, context = await _phone(browser)
    try:
        await page.goto(f"{live_server}/")
        steps: list[str] = []
        for _ in range(MAX_STEPS):
            await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
            question = page.get_by_test_id("question").first
            if await question.get_attribute("data-field") == "interests":
                break
            await answer(page, question, steps)
        else:
            pytest.fail(f"never asked about interests: {steps}")
        submit = question.get_by_test_id("multi-submit")
        # Each question names its own "none of these": "Aucune" would not answer this one.
        assert await submit.text_content() == "Rien de particulier"
        await submit.click()
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        said = await page.get_by_test_id("user-message").all_text_contents()
        assert said[-1].endswith("Rien de particulier")
        assert problems.found == []
    finally:
        await context.close()
