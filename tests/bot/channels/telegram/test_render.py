"""Replies as Telegram shows them: within 4096 characters, with native keyboards."""

from __future__ import annotations

import pytest

from bot.channels.buttons import callback_data, step_matches
from bot.channels.telegram.render import MAX_TEXT, keyboard, reply_calls
from bot.channels.text_pieces import split_text
from flows.render import RenderedChoice, RenderedMessage, RenderedQuestion


def test_long_texts_are_split_at_line_ends_within_4096() -> None:
    body = "\n".join(f"ligne {i} " + "x" * 80 for i in range(200))
    pieces = split_text(body, MAX_TEXT)
    assert len(pieces) > 1
    assert all(len(p) <= 4096 for p in pieces)
    assert "".join(pieces).replace("\n", "") == body.replace("\n", "")


def test_a_single_word_longer_than_a_message_is_cut() -> None:
    assert [len(p) for p in split_text("y" * 9000, MAX_TEXT)] == [4096, 4096, 808]


def test_callback_data_fits_64_bytes_and_long_steps_are_shortened() -> None:
    data = callback_data("c", "s" * 80, "value")
    assert len(data.encode()) <= 64
    assert step_matches(data.split("|")[1], "s" * 80)
    with pytest.raises(ValueError, match="too long"):
        callback_data("c", "step", "v" * 70)


def test_replies_join_messages_and_put_the_keyboard_on_the_last() -> None:
    question = RenderedQuestion(
        field="consent", kind="choice", choices=[RenderedChoice(value="yes", label="Oui")]
    )
    messages = [RenderedMessage(text="Salut"), RenderedMessage(text="OK ?", question=question)]
    (call,) = reply_calls(42, messages, step="consent", language="fr")
    assert call.payload["text"] == "Salut\n\nOK ?"
    button = call.payload["reply_markup"]["inline_keyboard"][0][0]
    assert button == {"text": "Oui", "callback_data": "c|consent|yes"}


def test_the_phone_question_offers_to_share_the_number() -> None:
    question = RenderedQuestion(field="phone", kind="phone", choices=[])
    (call,) = reply_calls(
        42, [RenderedMessage(text="Ton numéro ?", question=question)], step="phone", language="fr"
    )
    button = call.payload["reply_markup"]["keyboard"][0][0]
    assert button["request_contact"] is True


async def test_the_overall_pace_allows_a_burst_within_the_second_then_waits() -> None:
    import time

    from bot.messaging.sender import Pace

    pace = Pace(rate=5)
    start = time.monotonic()
    for _ in range(5):
        await pace.wait()
    assert time.monotonic() - start < 0.1
    await pace.wait()
    assert time.monotonic() - start >= 0.95


@pytest.mark.parametrize(
    ("none", "shown"), [("Rien de particulier", "Rien de particulier"), (None, "Aucune")]
)
def test_a_multi_question_offers_its_own_none_until_something_is_picked(
    none: str | None, shown: str
) -> None:
    question = RenderedQuestion(
        field="interests",
        kind="multi",
        choices=[RenderedChoice(value="digital", label="Le numérique")],
        none=none,
    )
    nothing_picked = keyboard(question, "interests", "fr")
    one_picked = keyboard(question, "interests", "fr", mask=1)
    assert nothing_picked is not None
    assert one_picked is not None
    assert nothing_picked["inline_keyboard"][-1][0]["text"] == shown
    assert one_picked["inline_keyboard"][-1][0]["text"] == "✔️ Valider"
