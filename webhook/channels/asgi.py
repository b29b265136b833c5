"""What the messengers' webhooks share: served as plain ASGI in front of FastAPI.

A messenger's webhook takes every message people send, and FastAPI's routing, dependency
solving and request objects cost more CPU than the rest of such a request (see the README's
benchmark). Each webhook is a small middleware answering its one path and passing everything
else on; these are its body reading and its answers.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A delivery is a few kilobytes; this is far above any a messenger sends.
MAX_BODY_BYTES = 1_000_000


class TooLarge(Exception):
    """The body went past MAX_BODY_BYTES."""


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's body, refused (TooLarge) as soon as it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class Answer(NamedTuple):
    """A webhook's whole response."""

    status: int
    body: bytes
    content_type: bytes = b"application/json"


OK = Answer(200, b'{"ok":true}')


def error(status: int, detail: str) -> Answer:
    """An answer naming the problem, as the JSON APIs do."""
    return Answer(status, json.dumps({"detail": detail}).encode())


class ChannelWebhook(ABC):
    """ASGI middleware serving one messenger's webhook path and passing everything else on."""

    path: str

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        answer = await self.handle(scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (b"content-type", answer.content_type),
                    (b"content-length", str(len(answer.body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive) -> Answer:
        """The answer to a request on the webhook's path."""
