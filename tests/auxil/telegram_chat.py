"""A person in a private Telegram chat with the bot: the state they reached, the keyboards
they see, and answering the question on screen as a persona would (see personas.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.storage.models import Conversation
from flows.state import ConversationState
from tests.auxil import telegram_updates as tg
from tests.auxil.personas import answer_for
from tests.auxil.telegram_harness import TelegramHarness

# The tests' usual private chat.
CHAT = 5551234


async def state_of(h: TelegramHarness, chat_id: int = CHAT) -> ConversationState | None:
    """The conversation's state after its last step, or None before /start."""
    async with h.app.state.database.transaction() as tx:
        state = await tx.scalar(
            select(Conversation.state).where(
                Conversation.channel == "telegram", Conversation.external_id == str(chat_id)
            )
        )
    return ConversationState.model_validate(state) if state is not None else None


def buttons(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline keyboard's buttons of a sendMessage, one a row as the bot draws them."""
    markup = params.get("reply_markup") or {}
    return [row[0] for row in markup.get("inline_keyboard", [])]


def button_for(params: dict[str, Any], value: str) -> str:
    """The callback data of the choice button for ``value``."""
    data: list[str] = [b["callback_data"] for b in buttons(params)]
    return next(d for d in data if d.startswith("c|") and d.rsplit("|", 1)[1] == value)


async def question(h: TelegramHarness) -> dict[str, Any]:
    """The question the chat's conversation asks now, as its rendering's dict."""
    async with h.app.state.database.transaction() as tx:
        peeked = await h.app.state.conversations.peek(tx, channel="telegram", external_id=str(CHAT))
    assert peeked is not None
    asked = peeked[1][-1].question
    assert asked is not None
    return asked.model_dump()


async def answer(
    h: TelegramHarness, last: dict[str, Any], reply: dict[str, Any], asked: dict[str, Any]
) -> list[dict[str, Any]]:
    """Answer ``asked`` (shown in the sendMessage ``last``) with a persona's ``reply``, as a
    person would: pressing buttons, sharing the contact, or typing; the bot's answers."""
    if "choice" in reply:
        return await h.send(tg.press(CHAT, button_for(last, reply["choice"])))
    if "choices" in reply:
        markup = last
        labels = {c["value"]: c["label"] for c in asked["choices"]}
        for value in reply["choices"]:
            toggle = next(
                b["callback_data"]
                for b in buttons(markup)
                if b["callback_data"].startswith("t|") and b["text"].endswith(labels[value])
            )
            await h.send(tg.press(CHAT, toggle))
            markup = h.recorder.calls_to("editMessageReplyMarkup")[-1].params
        return await h.send(tg.press(CHAT, buttons(markup)[-1]["callback_data"]))
    if asked["kind"] == "phone":
        # The share-my-number button: Telegram sends international digits.
        return await h.send(tg.contact(CHAT, "33612345678"))
    return await h.send(tg.message(CHAT, reply["text"]))


async def converse(
    h: TelegramHarness, profile: dict[str, Any], start: str, *, first_name: str | None = None
) -> ConversationState:
    """Hold a whole conversation from ``start`` as the persona of ``profile`` would, pressing
    and typing as a person does, until it ends; its last state. ``first_name`` overrides the
    persona's when asked for."""
    sent = await h.send(tg.message(CHAT, start))
    for _ in range(40):
        state = await state_of(h)
        assert state is not None
        if state.done:
            return state
        asked = await question(h)
        reply = answer_for(asked, profile)
        if asked["field"] == "first_name" and first_name is not None:
            reply = {"text": first_name}
        sent = await answer(h, sent[-1], reply, asked)
    raise AssertionError("the conversation did not end")
