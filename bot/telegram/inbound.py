"""Reading a Telegram update: which chat, and what the person meant (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.messages import Input

# Callback data: "<kind>|<step>|<value>" (kinds: c = choice, t = toggle, m = multi, r = erase).
SEPARATOR = "|"


@dataclass(frozen=True)
class Inbound:
    """What an update asks of the bot."""

    chat_id: int | None
    # The input to give the conversation, if any.
    received: Input | None = None
    # The step a pressed button belongs to: a press on an old keyboard is re-prompted.
    button_step: str | None = None
    # A callback query to answer (every press is answered, or the button keeps spinning).
    callback_query_id: str | None = None
    # A multi-select toggle: redraw the keyboard with this selection, change no answer.
    toggle_mask: int | None = None
    # A multi-select submitted: the selected options, as bits of their positions.
    submit_mask: int | None = None
    message_id: int | None = None
    language_code: str | None = None
    # Not a private chat, blocked or unblocked, or nothing to do.
    group: bool = False
    blocked: bool | None = None


def _private(chat: dict[str, Any]) -> bool:
    return chat.get("type") == "private"


def read_update(update: dict[str, Any]) -> Inbound:
    """Turn an update into an Inbound; anything unexpected becomes a kind re-prompt."""
    if "callback_query" in update:
        return _callback(update["callback_query"])
    if "my_chat_member" in update:
        member = update["my_chat_member"]
        status = (member.get("new_chat_member") or {}).get("status")
        chat = member.get("chat") or {}
        if not _private(chat):
            return Inbound(chat_id=None)
        return Inbound(chat_id=chat.get("id"), blocked=status in ("kicked", "left"))
    for key in ("edited_message", "message"):
        if key in update:
            return _message(update[key], edited=key == "edited_message")
    # Channel posts, polls, inline queries…: nothing for this bot to do.
    return Inbound(chat_id=None)


def _message(message: dict[str, Any], *, edited: bool) -> Inbound:
    chat = message.get("chat") or {}
    chat_id = chat.get("id")
    language = (message.get("from") or {}).get("language_code")
    if not _private(chat):
        # Answer a direct command once in a group; never keep a conversation there.
        text = message.get("text") or ""
        return Inbound(chat_id=chat_id if text.startswith("/") else None, group=True)
    if edited:
        return Inbound(chat_id, Input(command="repeat", payload="edited"), language_code=language)
    if "forward_origin" in message or "forward_date" in message:
        return Inbound(
            chat_id, Input(command="repeat", payload="forwarded"), language_code=language
        )
    contact = message.get("contact")
    if contact is not None:
        own = contact.get("user_id") == (message.get("from") or {}).get("id")
        if own and contact.get("phone_number"):
            # Telegram gives the number in international form, often without its "+".
            number = str(contact["phone_number"]).strip()
            number = number if number.startswith("+") else "+" + number
            return Inbound(chat_id, Input(text=number), language_code=language)
        return Inbound(
            chat_id, Input(command="repeat", payload="not_own_contact"), language_code=language
        )
    text = message.get("text")
    if isinstance(text, str):
        return Inbound(chat_id, Input(text=text), language_code=language)
    # Stickers, photos, voice, locations, documents, polls, dice…
    return Inbound(chat_id, Input(command="repeat", payload="unsupported"), language_code=language)


def _callback(query: dict[str, Any]) -> Inbound:
    message = query.get("message") or {}
    chat = message.get("chat") or {}
    base: dict[str, Any] = {
        "chat_id": chat.get("id"),
        "callback_query_id": query.get("id"),
        "message_id": message.get("message_id"),
        "language_code": (query.get("from") or {}).get("language_code"),
    }
    if not _private(chat):
        return Inbound(chat_id=None, callback_query_id=query.get("id"))
    kind, step, value = (str(query.get("data") or "").split(SEPARATOR, 2) + ["", ""])[:3]
    if kind == "c":
        return Inbound(**base, received=Input(choice=value), button_step=step)
    if kind in ("t", "m") and value.isdigit():
        mask = int(value)
        if kind == "t":
            return Inbound(**base, toggle_mask=mask, button_step=step)
        return Inbound(**base, submit_mask=mask, button_step=step)
    # Data we never sent (an old release, a forged press): show where we are.
    return Inbound(**base, received=Input(command="repeat", payload="old_button"))
