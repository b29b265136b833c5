"""The parts of a Bot API update this bot reads, as typed dictionaries.

Updates are read as the JSON dicts Telegram sends (parsing them into PTB's objects cost about
30 times as much CPU). Every field is optional here (``total=False``) and checked where it is
read: an update may be forged, and a field of the wrong type must lead to a kind re-prompt,
never to an error. See https://core.telegram.org/bots/api#update.
"""

from __future__ import annotations

from typing import TypedDict


class Chat(TypedDict, total=False):
    id: int
    type: str  # "private", "group", "supergroup", "channel"


class User(TypedDict, total=False):
    id: int
    language_code: str


class Contact(TypedDict, total=False):
    phone_number: str
    user_id: int


# "from" is a Python keyword: the functional form names it.
Message = TypedDict(
    "Message",
    {
        "message_id": int,
        "chat": Chat,
        "from": User,
        "text": str,
        "contact": Contact,
        "media_group_id": str,
        "forward_origin": dict[str, object],
        "forward_date": int,
    },
    total=False,
)

CallbackQuery = TypedDict(
    "CallbackQuery",
    {"id": str, "from": User, "message": Message, "data": str, "inline_message_id": str},
    total=False,
)


class ChatMember(TypedDict, total=False):
    status: str  # "member", "kicked", "left", …


class ChatMemberUpdated(TypedDict, total=False):
    chat: Chat
    new_chat_member: ChatMember


class Update(TypedDict, total=False):
    update_id: int
    message: Message
    edited_message: Message
    callback_query: CallbackQuery
    my_chat_member: ChatMemberUpdated
