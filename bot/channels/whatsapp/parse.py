"""Reading a Cloud API notification: its items, and what each asks of the bot (pure, no I/O).

A notification may be forged or malformed (the signature proves who sent it, not what shape it
has): anything unexpected is skipped or becomes a kind re-prompt, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from bot.channels import buttons
from bot.channels.payloads import MalformedUpdate, clean_update
from bot.channels.whatsapp import words
from bot.channels.whatsapp.render import numbered_choice
from bot.channels.whatsapp.updates import Item, position_of
from bot.partners.whatsapp_link import referral_code_in
from flows.messages import Input
from flows.render import RenderedQuestion

# A WhatsApp id is a phone number's digits in international form (E.164: at most 15).
WA_ID = re.compile(r"[1-9][0-9]{5,14}")
MAX_ID_LENGTH = 256
# "2", "1, 3", "1 et 3", "1 and 3", "1/3", "0": numbers a numbered question is answered with.
# Numbers are always apart (a separator or a space): "1234" has one reading, not dozens.
# No leading zero: "06 12 34 56 78" is a phone number.
_NUMBER = r"(?:0|[1-9][0-9]?)"
_NUMBERS = re.compile(rf"{_NUMBER}(?:(?:\s*(?:[,;/]|\bet\b|\band\b)\s*|\s+){_NUMBER}){{0,19}}")
_NUMBER_SEPARATORS = re.compile(r"[,;/]|\bet\b|\band\b|\s+")
# Message types that ask nothing (a reaction, an order, a number change, a chat opened for the
# first time when the welcome-message option is on): no answer, and no re-prompt.
_IGNORED = frozenset({"reaction", "order", "system", "request_welcome"})
# The kinds of message whose content a step reads; of the others only this much is stored.
_READ = frozenset({"text", "interactive", "button"})
_KEPT = ("from", "id", "timestamp", "type")


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of the notification, or an empty one when a forged body put anything else."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _values(notification: Any) -> Iterator[dict[str, Any]]:
    """The ``value`` of each ``messages`` change of a WhatsApp notification."""
    notification = _object(notification)
    if notification.get("object") != "whatsapp_business_account":
        return  # the same app's webhooks about a Page or Instagram: not ours to answer
    for entry in _list(notification.get("entry")):
        for change in _list(_object(entry).get("changes")):
            change = _object(change)
            if change.get("field") == "messages":
                yield _object(change.get("value"))


def items_of(notification: Any, phone_number_id: str) -> list[Item]:
    """The messages and failed deliveries of a notification to our number, in order.

    Delivery reports (sent, delivered, read) are not items: there is nothing to do about them.
    """
    items: list[Item] = []
    for value in _values(notification):
        if _object(value.get("metadata")).get("phone_number_id") != phone_number_id:
            continue  # another number of the same business account
        for message in map(_object, _list(value.get("messages"))):
            item = _item(message, "message", message.get("from"), message.get("id"), len(items))
            if item is not None:
                items.append(item)
        for status in map(_object, _list(value.get("statuses"))):
            if status.get("status") == "failed":
                sender, status_id = status.get("recipient_id"), status.get("id")
                item = _item(status, "status", sender, status_id, len(items))
                if item is not None:
                    items.append(item)
    return items


def _item(
    body: dict[str, Any], kind: Literal["message", "status"], wa_id: Any, own_id: Any, index: int
) -> Item | None:
    """One item, or None when its body lacks what an item needs (or is nested absurdly)."""
    if not isinstance(wa_id, str) or not WA_ID.fullmatch(wa_id):
        return None
    if not isinstance(own_id, str) or not 0 < len(own_id) <= MAX_ID_LENGTH:
        return None
    timestamp = body.get("timestamp")
    # Seconds, as a string; twelve digits reach the year 33658.
    if not isinstance(timestamp, str) or not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return None
    try:
        # Stored as JSON: a lone half of an emoji would not store, a deep nesting not encode.
        clean_update(body)
    except MalformedUpdate:
        return None
    if kind == "message" and _string(body.get("type")) not in _READ:
        # Only re-prompted, never read: a photo's caption, a location, someone else's contact
        # card are not ours to keep.
        body = {key: body[key] for key in _KEPT if key in body}
    return Item(
        id=own_id if kind == "message" else f"{own_id}:failed",
        wa_id=wa_id,
        kind=kind,
        position=position_of(int(timestamp), index),
        body=body,
    )


def value_errors(notification: Any) -> list[int]:
    """The error codes Meta reports for a whole notification (``value.errors``), to log."""
    return [
        code
        for value in _values(notification)
        for error in _list(value.get("errors"))
        if isinstance(code := _object(error).get("code"), int)
    ]


@dataclass(frozen=True)
class Inbound:
    """What an item asks of the bot."""

    chat_id: int
    # The input to give the conversation, if any.
    received: Input | None = None
    # The step a pressed button or list row belongs to: one of an old question is re-prompted.
    button_step: str | None = None
    # The person wrote STOP: they get nothing more from us.
    stop: bool = False
    # A message of ours WhatsApp could not deliver: Meta's error code.
    failed_code: int | None = None
    # Text that may be numbers answering a numbered question ("1, 3"): read with it.
    numbered: bool = False
    # The person asked for help ("aide"): the channel names the words they can write.
    help: bool = False


def read_item(item: Item, *, own_number: str) -> Inbound:
    """Turn an item into an Inbound; anything unexpected becomes a kind re-prompt.

    ``own_number`` is the person's number ("+<wa_id>"), the answer of the share-my-number
    button.
    """
    chat_id = int(item["wa_id"])
    body = _object(item["body"])
    if item["kind"] == "status":
        error = _object(next(iter(_list(body.get("errors"))), None))
        code = error.get("code")
        return Inbound(chat_id, failed_code=code if isinstance(code, int) else 0)
    kind = _string(body.get("type"))
    if kind in _IGNORED:
        # A 👍 on a message is no answer, and says nothing we need to re-prompt.
        return Inbound(chat_id)
    if _object(body.get("context")).get("forwarded") is True:
        return Inbound(chat_id, Input(command="repeat", payload="forwarded"))
    if kind == "text":
        typed = _string(_object(body.get("text")).get("body"))
        if typed is not None:
            return _text(chat_id, typed)
    elif kind == "interactive":
        interactive = _object(body.get("interactive"))
        reply_kind = interactive.get("type")
        if reply_kind in ("button_reply", "list_reply"):
            reply_id = _string(_object(interactive.get(reply_kind)).get("id"))
            return _pressed(chat_id, reply_id or "", own_number)
    elif kind == "button":
        # A template's quick reply: our id if we set one, else the words on it.
        button = _object(body.get("button"))
        payload = _string(button.get("payload")) or ""
        if _ours(payload):
            return _pressed(chat_id, payload, own_number)
        label = _string(button.get("text"))
        if label is not None:
            return _text(chat_id, label)
    elif kind == "audio":
        return Inbound(chat_id, Input(command="repeat", payload="voice"))
    # Images, videos, stickers, documents, locations, contacts, "unsupported", new types…
    return Inbound(chat_id, Input(command="repeat", payload="unsupported"))


def _text(chat_id: int, typed: str) -> Inbound:
    if words.is_stop(typed):
        return Inbound(chat_id, stop=True)
    # A partner's link prefilled the first message with its code: a start through the partner.
    code = referral_code_in(typed)
    if code is not None:
        return Inbound(chat_id, Input(command="start", payload=code))
    command = words.command_of(typed)
    if command is not None:
        if command.command == "help":
            return Inbound(chat_id, help=True)
        return Inbound(chat_id, command)
    return Inbound(chat_id, Input(text=typed), numbered=_numbers(typed) is not None)


def _ours(reply_id: str) -> bool:
    return reply_id[:2] in ("c|", "m|", "p|")


def _pressed(chat_id: int, reply_id: str, own_number: str) -> Inbound:
    kind, step, value = buttons.parts(reply_id)
    if not _ours(reply_id):
        # An id we never sent (an old release, a forged press): show where we are.
        return Inbound(chat_id, Input(command="repeat", payload="old_button"))
    appointment = buttons.appointment_press(step, value) if kind == "c" else None
    if appointment is not None:
        return Inbound(chat_id, appointment)
    if kind == "c":
        return Inbound(chat_id, Input(choice=value), button_step=step)
    if kind == "m" and value == "":
        return Inbound(chat_id, Input(choices=()), button_step=step)
    if kind == "p" and value == "yes":
        return Inbound(chat_id, Input(text=own_number), button_step=step)
    return Inbound(chat_id, Input(command="repeat", payload="old_button"))


def _numbers(typed: str) -> list[int] | None:
    """The numbers of a message that is only numbers ("1, 3", "1 et 3", "2."), else None."""
    stripped = typed.strip().rstrip(".!").strip()
    if len(stripped) > 100 or _NUMBERS.fullmatch(stripped) is None:
        return None
    return [int(part) for part in _NUMBER_SEPARATORS.split(stripped) if part.isdecimal()]


def numbered_answer(typed: str, question: RenderedQuestion) -> Input | None:
    """The answer numbers give to a question shown as numbered lines, if they give one.

    A choice shown as numbered lines takes one number; a multi takes several ("1, 3",
    "1 et 3") or "0" for none. Anything else is for the engine to read as typed (out of range
    too: it re-asks kindly).
    """
    numbers = _numbers(typed)
    values = [choice.value for choice in question.choices]
    if numbers is None or not values:
        return None
    if question.kind == "multi":
        if numbers == [0]:
            return Input(choices=())
        if not all(1 <= n <= len(values) for n in numbers):
            return None
        return Input(choices=tuple(dict.fromkeys(values[n - 1] for n in numbers)))
    if numbered_choice(question) and len(numbers) == 1 and 1 <= numbers[0] <= len(values):
        return Input(choice=values[numbers[0] - 1])
    return None
