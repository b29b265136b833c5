"""GET and POST /whatsapp/webhook: Meta's subscription handshake and its notifications.

Plain ASGI in front of FastAPI, like Telegram's webhook (webhook/channels/asgi.py says why).
GET answers the handshake (``hub.mode=subscribe`` with our verify token: the challenge, as
plain text). POST takes a notification signed with the app secret (``X-Hub-Signature-256``,
checked on the raw body in constant time), stores and applies what it carries, then answers
200: Meta retries anything else for days. A signed body that is no notification is answered
200 with one log line (delivered again, it would fail again); an unsigned or wrongly signed
one gets 403. With the channel off, both answer 404.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from bot.channels.whatsapp.runtime import WEBHOOK_PATH, WhatsAppRuntime
from bot.channels.whatsapp.signature import valid_signature, verification_answer
from webhook.channels.asgi import TooLarge, error, read_body, respond

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = b"x-hub-signature-256"
# A query string of the handshake is three short parameters.
MAX_QUERY_BYTES = 2048
_OK = b'{"ok":true}'


class WhatsAppWebhook:
    """ASGI middleware serving the webhook path and passing everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != WEBHOOK_PATH:
            await self.app(scope, receive, send)
            return
        runtime: WhatsAppRuntime | None = scope["app"].state.whatsapp
        if runtime is None:
            await respond(send, *error(404, "the WhatsApp channel is not configured"))
        elif scope["method"] == "GET":
            await _subscribe(runtime, scope, send)
        elif scope["method"] == "POST":
            await respond(send, *await _notify(runtime, scope, receive))
        else:
            await respond(send, *error(405, "the WhatsApp webhook takes GET and POST only"))


async def _subscribe(runtime: WhatsAppRuntime, scope: Scope, send: Send) -> None:
    query: bytes = scope.get("query_string", b"")
    token = runtime.settings.whatsapp_verify_token
    assert token is not None
    params = dict(parse_qsl(query[:MAX_QUERY_BYTES].decode("latin-1")))
    challenge = verification_answer(params, token.get_secret_value())
    if challenge is None:
        await respond(send, *error(403, "wrong hub.mode, hub.verify_token or hub.challenge"))
        return
    logger.info("whatsapp webhook verified")
    await respond(send, 200, challenge.encode(), b"text/plain; charset=utf-8")


async def _notify(runtime: WhatsAppRuntime, scope: Scope, receive: Receive) -> tuple[int, bytes]:
    secret = runtime.settings.whatsapp_app_secret
    assert secret is not None
    given = next((v for k, v in scope["headers"] if k == SIGNATURE_HEADER), None)
    try:
        raw = await read_body(receive)
    except TooLarge:
        return error(413, "notification too large")
    signature = given.decode("latin-1") if given is not None else None
    if not valid_signature(secret.get_secret_value().encode(), raw, signature):
        return error(403, "wrong or missing X-Hub-Signature-256")
    try:
        notification: Any = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Signed by Meta, yet unreadable: never expected, and a retry would not read better.
        logger.warning("whatsapp notification ignored: not JSON")
        return 200, _OK
    await runtime.accept(notification)
    return 200, _OK
