"""Building the updates Telegram sends, as plain JSON dicts."""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count(1000)


def _user(chat_id: int, language: str = "fr") -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": language}


def _message(chat_id: int, *, chat_type: str = "private", **fields: Any) -> dict[str, Any]:
    return {
        "message_id": next(_ids),
        "date": 1_790_000_000,
        "chat": {"id": chat_id, "type": chat_type},
        "from": _user(chat_id),
        **fields,
    }


def message(
    chat_id: int, text: str | None = None, *, update_id: int | None = None, **fields: Any
) -> dict[str, Any]:
    """A private message: text, or any other content given as fields (sticker=…, photo=…)."""
    body = _message(chat_id, **({"text": text} if text is not None else {}), **fields)
    return {"update_id": update_id or next(_ids), "message": body}


def edited(chat_id: int, text: str) -> dict[str, Any]:
    return {"update_id": next(_ids), "edited_message": _message(chat_id, text=text)}


def group_message(chat_id: int, text: str, *, language: str = "fr") -> dict[str, Any]:
    body = _message(chat_id, chat_type="group", text=text)
    body["from"] = _user(4242, language)  # a member of the group, not the group itself
    return {"update_id": next(_ids), "message": body}


def album(chat_id: int, parts: int, *, group_id: str = "13612012345678901") -> list[dict[str, Any]]:
    """A photo album: Telegram sends each photo as its own update, sharing media_group_id."""
    photo = [{"file_id": "p", "file_unique_id": "u", "width": 90, "height": 90}]
    return [message(chat_id, photo=photo, media_group_id=group_id) for _ in range(parts)]


def inline_press(user_id: int, data: str, *, language: str = "fr") -> dict[str, Any]:
    """A press on a message sent in inline mode: ``inline_message_id``, and no message."""
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": f"cq{next(_ids)}",
            "from": _user(user_id, language),
            "inline_message_id": "AAAAAKx0AAA7lUZ8",
            "chat_instance": "-2000",
            "data": data,
        },
    }


def press(chat_id: int, data: str, *, message_id: int = 1) -> dict[str, Any]:
    """A press on an inline button carrying this callback data."""
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": f"cq{next(_ids)}",
            "from": _user(chat_id),
            "chat_instance": "x",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 1_790_000_000,
                "chat": {"id": chat_id, "type": "private"},
            },
        },
    }


def contact(chat_id: int, phone: str, *, own: bool = True) -> dict[str, Any]:
    card = {"phone_number": phone, "first_name": "Test", "user_id": chat_id if own else 999}
    return message(chat_id, contact=card)


def blocked(chat_id: int, *, status: str = "kicked") -> dict[str, Any]:
    return {
        "update_id": next(_ids),
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "private"},
            "from": _user(chat_id),
            "date": 1_790_000_000,
            "old_chat_member": {"status": "member", "user": _user(chat_id)},
            "new_chat_member": {"status": status, "user": _user(chat_id)},
        },
    }
