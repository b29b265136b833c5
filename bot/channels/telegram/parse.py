"""Reading a Telegram update: which chat, and what the person meant (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from bot.channels import buttons
from bot.channels.telegram.updates import CallbackQuery, Contact, Message, Update
from flows.messages import Input


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of the update, or an empty one when a forged update put anything else."""
    return value if isinstance(value, dict) else {}


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
    # A part of an album: Telegram sends each photo as its own update, sharing this id.
    media_group_id: str | None = None


def _private(chat: dict[str, Any]) -> bool:
    return chat.get("type") == "private"


def _language(sender: Any) -> str | None:
    language = _object(sender).get("language_code")
    return language if isinstance(language, str) else None


def read_update(update: Update) -> Inbound:
    """Turn an update into an Inbound; anything unexpected becomes a kind re-prompt."""
    if "callback_query" in update:
        return _callback(cast(CallbackQuery, _object(update["callback_query"])))
    if "my_chat_member" in update:
        member = _object(update["my_chat_member"])
        status = _object(member.get("new_chat_member")).get("status")
        chat = _object(member.get("chat"))
        if not _private(chat) or not isinstance(chat.get("id"), int):
            return Inbound(chat_id=None)
        return Inbound(chat_id=chat["id"], blocked=status in ("kicked", "left"))
    for key in ("edited_message", "message"):
        if key in update:
            message = cast(Message, _object(update[key]))
            return _message(message, edited=key == "edited_message")
    # Channel posts, polls, inline queries…: nothing for this bot to do.
    return Inbound(chat_id=None)


def _message(message: Message, *, edited: bool) -> Inbound:
    chat = _object(message.get("chat"))
    chat_id = chat.get("id")
    if not isinstance(chat_id, int):
        return Inbound(chat_id=None)  # forged: no chat to answer
    sender = _object(message.get("from"))
    language = _language(sender)
    if not _private(chat):
        # Answer a direct command once in a group, in the sender's language; never keep a
        # conversation there.
        text = message.get("text")
        command = isinstance(text, str) and text.startswith("/")
        return Inbound(chat_id if command else None, group=True, language_code=language)
    if edited:
        return Inbound(chat_id, Input(command="repeat", payload="edited"), language_code=language)
    if "forward_origin" in message or "forward_date" in message:
        return Inbound(
            chat_id, Input(command="repeat", payload="forwarded"), language_code=language
        )
    contact = message.get("contact")
    if contact is not None:
        contact = cast(Contact, _object(contact))
        own = contact.get("user_id") == sender.get("id")
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
    album = message.get("media_group_id")
    return Inbound(
        chat_id,
        Input(command="repeat", payload="unsupported"),
        language_code=language,
        media_group_id=album if isinstance(album, str) else None,
    )


def _callback(query: CallbackQuery) -> Inbound:
    message = _object(query.get("message"))
    chat = _object(message.get("chat"))
    query_id = query.get("id") if isinstance(query.get("id"), str) else None
    language = _language(query.get("from"))
    chat_id = chat.get("id")
    if not _private(chat) or not isinstance(chat_id, int):
        # A press in a group, or on a message sent in inline mode (``inline_message_id``,
        # no message): answered, with a word on where to write.
        return Inbound(chat_id=None, callback_query_id=query_id, language_code=language)
    message_id = message.get("message_id")
    base: dict[str, Any] = {
        "chat_id": chat_id,
        "callback_query_id": query_id,
        "message_id": message_id if isinstance(message_id, int) else None,
        "language_code": language,
    }
    kind, step, value = buttons.parts(str(query.get("data") or ""))
    appointment = buttons.appointment_press(step, value) if kind == "c" else None
    if appointment is not None:
        return Inbound(**base, received=appointment)
    if kind == "c":
        return Inbound(**base, received=Input(choice=value), button_step=step)
    if kind in ("t", "m") and value.isdigit():
        mask = int(value)
        if kind == "t":
            return Inbound(**base, toggle_mask=mask, button_step=step)
        return Inbound(**base, submit_mask=mask, button_step=step)
    # Data we never sent (an old release, a forged press): show where we are.
    return Inbound(**base, received=Input(command="repeat", payload="old_button"))


def chat_of(update: Update) -> int | None:
    """The chat an update belongs to, if any (None for a forged one: no chat, or not an object)."""
    for key in ("message", "edited_message", "my_chat_member"):
        if key in update:
            return _chat_id(update[key])
    query = update.get("callback_query")
    if isinstance(query, dict):
        return _chat_id(query.get("message"))
    return None


def _chat_id(holder: Any) -> int | None:
    chat = holder.get("chat") if isinstance(holder, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    return chat_id if isinstance(chat_id, int) else None


def forged(update: Update) -> bool:
    """Whether an update without a chat should have had one (or a press, its id)."""
    keys = ("message", "edited_message", "my_chat_member", "callback_query")
    return any(key in update for key in keys)


def presser(update: Update) -> int:
    """The outbox key of a press without a chat: the person's id (their private chat's)."""
    query = update.get("callback_query")
    sender = query.get("from") if isinstance(query, dict) else None
    user_id = sender.get("id") if isinstance(sender, dict) else None
    return user_id if isinstance(user_id, int) else 0
