"""The chat on a partner's site (another origin, a strict CSP) in chromium, as a person uses it.

Nothing may reach the browser before the person opens the chat; once open it is a dialog the
keyboard cannot leave, Escape closes it (also from inside the chat) and the conversation is
still there when it opens again, attributed to the partner's code.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Frame, Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from bot.settings import Settings
from bot.storage.database import Database
from flows.i18n import text
from tests.auxil.axe import assert_accessible
from tests.auxil.chat_page import CHOICE_PREFERENCES, IDLE, TEXT_ANSWERS, TURN_TIMEOUT_MS
from tests.auxil.page_problems import Problems
from tests.auxil.partner_site import CODE, served_partner_site
from tests.auxil.servers import serve
from tests.auxil.stored_rows import conversation_row
from tests.auxil.webhook_receiver import register_referrer
from webhook.app import create_app

pytestmark = pytest.mark.browser

# Where the focus is, seen through the widget's shadow root: "launcher", "close", "frame",
# "panel", or "outside" when it left the widget.
FOCUS = """() => {
  const host = document.querySelector("aiguillage-chat");
  if (document.activeElement !== host) return "outside";
  const inner = host.shadowRoot.activeElement;
  if (!inner) return "none";
  if (inner.tagName === "IFRAME") return "frame";
  return inner.classList.contains("launcher") ? "launcher"
    : inner.classList.contains("close") ? "close" : "panel";
}"""
# The computed styles of the host's own elements that a widget's styles could change.
HOST_STYLES = """() => ["#host-button", "#host-text", "h1", "body"].map((selector) => {
  const style = getComputedStyle(document.querySelector(selector));
  return [selector, style.backgroundColor, style.color, style.fontSize, style.fontFamily,
          style.letterSpacing, style.borderTopStyle, style.margin, style.padding].join(" | ");
})"""
# Everything the host page's origin keeps in this browser.
HOST_STORAGE = """async () => [localStorage.length, sessionStorage.length,
  (await indexedDB.databases()).length, document.cookie]"""


@pytest.fixture
def service(chromium: Path, settings: Settings) -> Iterator[str]:
    """The whole service on 127.0.0.1, with its default AIGUILLAGE_EMBED_ORIGINS."""
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture
def partner(service: str) -> Iterator[str]:
    with served_partner_site(service) as url:
        yield url


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def _chat_frame(page: Page) -> Frame:
    handle = await page.locator("aiguillage-chat iframe").element_handle()
    assert handle is not None
    frame = await handle.content_frame()
    assert frame is not None
    await frame.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    return frame


async def _answer_one(frame: Frame) -> str:
    """Answer the question on screen as Samir would; what he said."""
    question = frame.get_by_test_id("question")
    kind = await question.get_attribute("data-kind")
    field = await question.get_attribute("data-field") or ""
    if kind == "choice":
        options = question.get_by_test_id("choice-button")
        values = [await option.get_attribute("data-value") for option in await options.all()]
        wanted = CHOICE_PREFERENCES.get(field)
        chosen = options.nth(values.index(wanted) if wanted in values else 0)
        said = await chosen.inner_text()
        # The keyboard, as the person who cannot use a mouse: focus, then Enter.
        await chosen.focus()
        await chosen.press("Enter")
    else:
        said = TEXT_ANSWERS.get(field, "19")
        await frame.get_by_test_id("text-input").fill(said)
        await frame.get_by_test_id("text-input").press("Enter")
    await frame.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
    return said.strip()


async def test_nothing_reaches_the_browser_before_the_person_opens_the_chat(
    page: Page, partner: str, service: str
) -> None:
    problems = Problems()
    problems.watch(page)
    await page.goto(f"{partner}/with.html")
    launcher = page.get_by_role("button", name=text("embed.open", "fr"))
    await launcher.wait_for()

    assert [url for url in problems.urls if url.startswith(service)] == [f"{service}/embed.js"]
    assert await page.context.cookies() == []
    assert (await page.context.storage_state())["origins"] == []
    assert await page.evaluate(HOST_STORAGE) == [0, 0, 0, ""]
    assert await page.locator("iframe").count() == 0
    assert len(page.frames) == 1
    assert await launcher.get_attribute("aria-expanded") == "false"
    # Under the host's strict CSP: no refusal in the console, the launcher drawn as designed.
    assert problems.found == []
    background = await launcher.evaluate("(button) => getComputedStyle(button).backgroundColor")
    assert background == "rgb(11, 85, 99)"
    await assert_accessible(page)


async def test_open_talk_close_with_escape_and_find_the_conversation_again(
    page: Page, partner: str, database: Database
) -> None:
    async with database.transaction() as tx:
        await register_referrer(tx, CODE, "Mission locale de Bondy")
    problems = Problems()
    problems.watch(page)
    await page.goto(f"{partner}/with.html")
    launcher = page.get_by_role("button", name=text("embed.open", "fr"))
    await launcher.focus()
    await page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Aiguillage · PôleS")
    await dialog.wait_for()
    assert await launcher.get_attribute("aria-expanded") == "true"
    assert await page.evaluate(FOCUS) == "frame"
    frame = await _chat_frame(page)
    assert await page.locator("aiguillage-chat iframe").get_attribute("title") == text(
        "embed.frame", "fr"
    )
    said = [await _answer_one(frame) for _ in range(3)]
    shown = await frame.get_by_test_id("user-message").all_inner_texts()
    assert len(shown) == len(said)
    assert all(line in bubble for line, bubble in zip(said, shown, strict=True))

    # Escape inside the chat closes the panel, and the focus is back on the launcher.
    await frame.get_by_test_id("text-input").focus()
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="hidden")
    assert await page.evaluate(FOCUS) == "launcher"
    assert await launcher.get_attribute("aria-expanded") == "false"

    # Open again: the same conversation, the same answers.
    await launcher.click()
    await dialog.wait_for()
    again = await _chat_frame(page)
    assert await again.get_by_test_id("user-message").count() == len(said)
    # Escape on the panel's own buttons closes it too.
    await page.get_by_role("button", name=text("embed.close", "fr")).focus()
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="hidden")
    assert await page.evaluate(FOCUS) == "launcher"

    # The conversation (the only one) is the partner's, as with a /?start=ML-BONDY link.
    row = await conversation_row(database)
    assert row is not None
    assert row.referrer_code == CODE
    assert problems.found == []


async def _settled_focus(page: Page) -> str:
    """Where the focus is once it has landed. The chat's frame is of another site, so chromium
    runs it in a process of its own: the focus crosses into it a moment after the key, the top
    page's body holding it meanwhile. A focus that really left the panel never comes back,
    and the wait ends on its timeout with where it went."""
    with contextlib.suppress(PlaywrightTimeoutError):
        await page.wait_for_function(
            f"() => ['frame', 'close'].includes(({FOCUS})())", timeout=5_000
        )
    focus: str = await page.evaluate(FOCUS)
    return focus


async def test_the_keyboard_stays_in_the_open_panel(page: Page, partner: str) -> None:
    await page.goto(f"{partner}/with.html")
    await page.get_by_role("button", name=text("embed.open", "fr")).click()
    await _chat_frame(page)
    seen = set()
    for _ in range(25):
        await page.keyboard.press("Tab")
        focus = await _settled_focus(page)
        assert focus in ("frame", "close"), f"the focus left the panel: {focus} after {seen}"
        seen.add(focus)
    assert seen == {"frame", "close"}
    # Backwards from the close button: into the chat, never out of the panel.
    await page.get_by_role("button", name=text("embed.close", "fr")).focus()
    for _ in range(25):
        await page.keyboard.press("Shift+Tab")
        focus = await _settled_focus(page)
        assert focus in ("frame", "close"), f"the focus left the panel: {focus}"


async def test_the_host_page_and_the_widget_keep_their_own_styles(page: Page, partner: str) -> None:
    await page.goto(f"{partner}/without.html")
    before = await page.evaluate(HOST_STYLES)
    await page.goto(f"{partner}/with.html")
    launcher = page.get_by_role("button", name=text("embed.open", "fr"))
    await launcher.click()
    await _chat_frame(page)
    assert await page.evaluate(HOST_STYLES) == before
    # The host's button {} and * {} rules do not reach the widget's buttons.
    look = await launcher.evaluate(
        """(button) => { const s = getComputedStyle(button);
           return [s.backgroundColor, s.borderTopStyle, s.fontSize, s.letterSpacing,
                   s.textTransform]; }"""
    )
    assert look == ["rgb(11, 85, 99)", "solid", "16px", "normal", "none"]
    # Nor do the host's inherited ones reach the panel's title.
    title = page.get_by_role("dialog").get_by_text("Aiguillage · PôleS")
    assert await title.evaluate(
        """(title) => { const s = getComputedStyle(title);
           return [s.letterSpacing, s.textTransform, s.fontFamily.split(",")[0]]; }"""
    ) == ["normal", "none", "system-ui"]


async def test_axe_finds_nothing_on_the_host_page_with_the_chat_open(
    page: Page, partner: str
) -> None:
    await page.goto(f"{partner}/with.html")
    await page.get_by_role("button", name=text("embed.open", "fr")).click()
    await _chat_frame(page)
    await assert_accessible(page)


async def test_the_host_page_in_english_gets_the_english_button(
    browser: Browser, service: str
) -> None:
    with served_partner_site(service, lang="en-GB") as partner:
        context = await browser.new_context()
        try:
            page = await context.new_page()
            await page.goto(f"{partner}/with.html")
            await page.get_by_role("button", name=text("embed.open", "en")).click()
            frame = await _chat_frame(page)
            assert await frame.evaluate("document.documentElement.lang") == "en"
        finally:
            await context.close()
