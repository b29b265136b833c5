"""WhatsApp's side of the load generator: Meta's notifications in, the fake Graph API's messages.

The fake Graph API (tests/auxil/fake_graph_api.py) runs in the load generator's process, in a
thread of its own, so a message's arrival and the notification's POST share one clock; its CPU
is this process's, never the service's. Each person is a WhatsApp number (their wa_id, also
their chat id). They write "Bonjour" first, then answer the latest message: a tap on a reply
button or a list row (the id we sent, the same preferred answers as on Telegram, else the
first), "1" to a numbered question, a typed answer to a text question (bench/_load.py's).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from bench._load import PREFERRED, TEXT_ANSWERS, RepliesByChat
from tests.auxil import whatsapp_payloads as wa
from tests.auxil.fake_graph_api import FakeGraphApi, GraphCall

WEBHOOK_PATH = "/whatsapp/webhook"
FIRST_MESSAGE = "Bonjour"
# A numbered question (a multi-select, or a choice longer than a list) has a line "1. …".
NUMBERED = re.compile(r"^1\. ", re.MULTILINE)


class GraphWatch(FakeGraphApi):
    """The fake Graph API, telling the generator's event loop about each message it takes."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.replies = RepliesByChat[GraphCall]()

    def _record(self, call: GraphCall) -> None:
        # FakeGraphApi has no public hook: this is where each call is recorded, with the
        # moment it arrived (``call.at``), in the server's thread.
        super()._record(call)
        # Only messages have a recipient (a read receipt, say, has none).
        if call.status == 200 and isinstance(call.body, dict) and "to" in call.body:
            self.loop.call_soon_threadsafe(self.replies.add, int(call.body["to"]), call)


def shown_text(message: dict[str, Any]) -> str:
    """What the person reads: a text's body, or an interactive message's."""
    if message.get("type") == "text":
        return str(message["text"]["body"])
    if message.get("type") == "interactive":
        return str(message["interactive"]["body"]["text"])
    return ""


def choices(message: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The (kind, id, title) of a message's reply buttons or list rows, in order."""
    interactive = message.get("interactive") if message.get("type") == "interactive" else None
    if not isinstance(interactive, dict):
        return []
    action = interactive.get("action", {})
    if interactive.get("type") == "button":
        buttons = [b["reply"] for b in action.get("buttons", ())]
        return [("button_reply", b["id"], b["title"]) for b in buttons]
    rows = [row for section in action.get("sections", ()) for row in section.get("rows", ())]
    return [("list_reply", row["id"], row["title"]) for row in rows]


def answer_to(wa_id: str, message: dict[str, Any]) -> dict[str, Any] | None:
    """The person's message answering ours; None when it asks nothing more."""
    text = shown_text(message).strip()
    found = choices(message)
    # A multi-select's list may have gone in a text before (a long body is split), its
    # "none" button coming last: answered with a number all the same.
    if NUMBERED.search(text) or any(c[1].startswith("m|") for c in found):
        return wa.text_message("1", wa_id=wa_id)  # the first of a numbered list
    if found:
        kind, pressed, title = next((c for c in found if c[1] in PREFERRED), found[0])
        press = wa.button_reply if kind == "button_reply" else wa.list_reply
        return press(pressed, title, wa_id=wa_id)
    if not text.endswith("?"):
        return None
    question = text.rsplit("\n\n", 1)[-1].lower()
    typed = next((a for key, a in TEXT_ANSWERS if key in question), "ok")
    return wa.text_message(typed, wa_id=wa_id)


class WhatsAppChannel:
    """WhatsApp's side (``bench._load.Channel``): one signed notification per message."""

    def __init__(self, watch: GraphWatch, app_secret: str) -> None:
        self.watch = watch
        self.app_secret = app_secret
        self.headers = {"Content-Type": "application/json"}

    def first(self, chat_id: int) -> dict[str, Any]:
        return wa.text_message(FIRST_MESSAGE, wa_id=str(chat_id))

    async def post(self, client: httpx.AsyncClient, update: Any) -> bool:
        # Signing is the generator's CPU, as it is Meta's: the service only checks it.
        body = wa.raw(wa.notification(messages=[update]))
        headers = {"X-Hub-Signature-256": wa.sign(body, self.app_secret)}
        answer = await client.post(WEBHOOK_PATH, content=body, headers=headers)
        return answer.status_code == 200

    async def next_reply(self, chat_id: int, after: float, within: float) -> float | None:
        return await self.watch.replies.arrival(chat_id, after, within)

    def answer(self, chat_id: int) -> dict[str, Any] | None:
        return answer_to(str(chat_id), self.watch.replies[chat_id][-1].body)
