"""Talking in the web chat's page (``/``) in a real browser, as Samir, 19, from Bondy, would."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, ViewportSize

from tests.auxil.page_problems import Problems

PHONE = ViewportSize(width=390, height=844)
MAX_STEPS = 60
# Generous: the first turn also warms up the flow definitions and the database.
TURN_TIMEOUT_MS = 15_000
# The page waits for the person (or has finished): the last answer was taken.
IDLE = '#app[data-state="idle"], #app[data-state="done"]'

TEXT_ANSWERS = {
    "age": "19",
    "postal_code": "93500",
    "first_name": "Samir",
    "phone": "06 12 34 56 78",
    "email": "samir@example.org",
}
# When a question has no field of its own the kind still says what a sensible answer is.
ANSWERS_BY_KIND = {
    "number": "19",
    "postal_code": "93500",
    "phone": "06 12 34 56 78",
    "email": "samir@example.org",
    "text": "Samir",
}
CHOICE_PREFERENCES = {
    "consent": "yes",
    "asker": "self",
    "situation": "none",
    "diploma_level": "below_3",
    "contact_consent": "yes",
    "confirm": "confirm",
    "contact_preference": "phone",
}


async def answer(page: Page, question: Locator, steps: list[str]) -> None:
    """Answer the question on screen as Samir would; the step is added to ``steps``."""
    kind = await question.get_attribute("data-kind") or "none"
    name = await question.get_attribute("data-field") or ""
    options = question.get_by_test_id("choice-button")
    if kind == "choice":
        values = [await option.get_attribute("data-value") for option in await options.all()]
        assert values, f"a choice question without choices: {name}"
        preferred = CHOICE_PREFERENCES.get(name)
        index = values.index(preferred) if preferred in values else 0
        steps.append(f"{name or '-'} (choice) → {values[index]}")
        await options.nth(index).click()
    elif kind == "multi":
        first = options.first
        steps.append(f"{name or '-'} (multi) → {await first.get_attribute('data-value')}")
        await first.click()
        assert await first.get_attribute("aria-pressed") == "true"
        await question.get_by_test_id("multi-submit").click()
    else:
        text = TEXT_ANSWERS.get(name) or ANSWERS_BY_KIND.get(kind)
        assert text, f"no answer for the {kind} question {name!r}; steps: {steps}"
        steps.append(f"{name or '-'} ({kind}) → {text}")
        await page.get_by_test_id("text-input").fill(text)
        await page.get_by_test_id("send-button").click()


async def converse(page: Page, problems: Problems) -> list[str]:
    """Answer every question until the conversation is done; the steps taken, for messages."""
    app = page.locator("#app")
    steps: list[str] = []
    for _ in range(MAX_STEPS):
        await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)
        # The page offers to try again after an error: stop at the first one instead.
        assert problems.found == [], f"after {steps}"
        if await app.get_attribute("data-state") == "done":
            return steps
        questions = page.get_by_test_id("question")
        last_bot = await page.get_by_test_id("bot-message").last.text_content()
        assert await questions.count() == 1, f"no question to answer after {last_bot!r}: {steps}"
        await answer(page, questions.first, steps)
    pytest.fail(f"not done after {MAX_STEPS} answers: {steps}")


# ---- the keyboard alone: Tab, Shift+Tab, Enter and Space, never a click ----------------------

# The element with the focus, as the tests name it: its data-testid (or its id).
FOCUSED = "() => document.activeElement?.dataset?.testid ?? document.activeElement?.id ?? null"
# More stops than the page has: past it, a Tab loop is stuck.
MAX_TABS = 80


async def focused_is(page: Page, locator: Locator) -> bool:
    """Whether ``locator`` (one element) has the keyboard focus."""
    focused: bool = await locator.evaluate("(node) => node === document.activeElement")
    return focused


async def tab_to(page: Page, locator: Locator, *, backwards: bool = False) -> int:
    """Press Tab (Shift+Tab) until ``locator`` has the focus; the number of presses."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(MAX_TABS):
        if await focused_is(page, locator):
            return presses
        await page.keyboard.press(key)
    pytest.fail(f"{locator} not reached with {key} in {MAX_TABS} presses")


async def answer_with_keys(page: Page, question: Locator, steps: list[str]) -> None:
    """Answer the question on screen as Samir would, from the keyboard alone, starting from
    where the page put the focus."""
    kind = await question.get_attribute("data-kind") or "none"
    name = await question.get_attribute("data-field") or ""
    options = question.get_by_test_id("choice-button")
    if kind == "choice":
        values = [await option.get_attribute("data-value") for option in await options.all()]
        preferred = CHOICE_PREFERENCES.get(name)
        index = values.index(preferred) if preferred in values else 0
        steps.append(f"{name or '-'} (choice, keys) → {values[index]}")
        await tab_to(page, options.nth(index))
        # Both keys press a button: use each, alternately.
        await page.keyboard.press("Enter" if len(steps) % 2 else "Space")
    elif kind == "multi":
        first = options.first
        steps.append(f"{name or '-'} (multi, keys) → {await first.get_attribute('data-value')}")
        await tab_to(page, first)
        await page.keyboard.press("Space")
        assert await first.get_attribute("aria-pressed") == "true"
        await tab_to(page, question.get_by_test_id("multi-submit"))
        await page.keyboard.press("Enter")
    else:
        text = TEXT_ANSWERS.get(name) or ANSWERS_BY_KIND.get(kind)
        assert text, f"no answer for the {kind} question {name!r}; steps: {steps}"
        steps.append(f"{name or '-'} ({kind}, keys) → {text}")
        field = page.get_by_test_id("text-input")
        if not await focused_is(page, field):
            await tab_to(page, field)
        await page.keyboard.type(text)
        await page.keyboard.press("Enter")
