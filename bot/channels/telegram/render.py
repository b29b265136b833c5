"""Turning a reply into Bot API calls: texts within 4096 characters, native keyboards."""

from __future__ import annotations

import base64
from typing import Any

from bot.channels.buttons import callback_data
from bot.channels.text_pieces import split_text
from bot.messaging.outbox import ApiCall
from flows.i18n import Language, text
from flows.render import RenderedMessage, RenderedQuestion

MAX_TEXT = 4096
# A document's caption (https://core.telegram.org/bots/api#senddocument).
MAX_CAPTION = 1024


def keyboard(
    question: RenderedQuestion, step: str, language: Language, mask: int = 0
) -> dict[str, Any] | None:
    """The reply markup of a question: buttons, toggles, or the share-my-number button."""
    if question.kind == "choice" and question.choices:
        return {
            "inline_keyboard": [
                [{"text": c.label, "callback_data": callback_data("c", step, c.value)}]
                for c in question.choices
            ]
        }
    if question.kind == "multi":
        rows = [
            [
                {
                    "text": ("✅ " if mask >> i & 1 else "▫️ ") + c.label,
                    "callback_data": callback_data("t", step, str(mask ^ (1 << i))),
                }
            ]
            for i, c in enumerate(question.choices)
        ]
        if mask:
            submit = text("telegram.multi_submit", language)
        else:
            # Each question names its own "none of these" ("Aucune", "Rien de particulier").
            submit = question.none or text("telegram.multi_none", language)
        rows.append([{"text": submit, "callback_data": callback_data("m", step, str(mask))}])
        return {"inline_keyboard": rows}
    if question.kind == "phone":
        return {
            "keyboard": [
                [{"text": text("telegram.share_phone", language), "request_contact": True}]
            ],
            "resize_keyboard": True,
            "one_time_keyboard": True,
            "input_field_placeholder": "06 12 34 56 78",
        }
    return None


def reply_calls(
    chat_id: int,
    messages: list[RenderedMessage],
    *,
    step: str | None,
    language: Language,
    remove_keyboard: bool = False,
    typing: bool = False,
) -> list[ApiCall]:
    """The sendMessage calls of a reply: its texts joined, cut to size, keyboard on the last."""
    calls: list[ApiCall] = []
    if typing:
        calls.append(ApiCall("sendChatAction", {"chat_id": chat_id, "action": "typing"}))
    question = messages[-1].question if messages else None
    markup = keyboard(question, step or "", language) if question else None
    if remove_keyboard and markup is not None and len(messages) > 1:
        # One message has one keyboard: drop the share-my-number one with the texts first.
        texts = "\n\n".join(m.text for m in messages[:-1] if m.text)
        calls.append(
            ApiCall(
                "sendMessage",
                {
                    "chat_id": chat_id,
                    "text": texts[:MAX_TEXT],
                    "reply_markup": {"remove_keyboard": True},
                },
            )
        )
        messages, remove_keyboard = messages[-1:], False
    pieces = split_text("\n\n".join(m.text for m in messages if m.text), MAX_TEXT)
    for index, piece in enumerate(pieces):
        payload: dict[str, Any] = {"chat_id": chat_id, "text": piece}
        if index == len(pieces) - 1 and markup is not None:
            payload["reply_markup"] = markup
        elif remove_keyboard and index == 0:
            payload["reply_markup"] = {"remove_keyboard": True}
        calls.append(ApiCall("sendMessage", payload))
    return calls


def document_call(
    chat_id: int, filename: str, content: bytes, caption: str, mime_type: str = "text/calendar"
) -> ApiCall:
    """A sendDocument call: the file travels in the outbox as base64 (its payload is JSON) and
    the messenger uploads it (bot/channels/telegram/messenger.py); a long caption is cut."""
    document = {
        "filename": filename,
        "mime_type": mime_type,
        "content_base64": base64.b64encode(content).decode("ascii"),
    }
    payload: dict[str, Any] = {"chat_id": chat_id, "document": document}
    if caption:
        payload["caption"] = split_text(caption, MAX_CAPTION)[0]
    return ApiCall("sendDocument", payload)
