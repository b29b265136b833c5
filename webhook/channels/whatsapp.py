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

from starlette.types import Receive, Scope

from bot.channels.whatsapp.runtime import WEBHOOK_PATH, WhatsAppRuntime
from bot.channels.whatsapp.signature import valid_signature, verification_answer
from webhook.channels.asgi import OK, Answer, ChannelWebhook, TooLarge, error, read_body

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = b"x-hub-signature-256"
# A query string of the handshake is three short parameters.
MAX_QUERY_BYTES = 2048


class WhatsAppWebhook(ChannelWebhook):
    """ASGI middleware serving WhatsApp's webhook path and passing everything else on."""

    path = WEBHOOK_PATH

    async def handle(self, scope: Scope, receive: Receive) -> Answer:
        runtime: WhatsAppRuntime | None = scope["app"].state.whatsapp
        if runtime is None:
            return error(404, "the WhatsApp channel is not configured")
        if scope["method"] == "GET":
            return _subscribe(runtime, scope)
        if scope["method"] == "POST":
            return await _notify(runtime, scope, receive)
        return error(405, "the WhatsApp webhook takes GET and POST only")


def _subscribe(runtime: WhatsAppRuntime, scope: Scope) -> Answer:
    query: bytes = scope.get("query_string", b"")
    token = runtime.settings.whatsapp_verify_token
    assert token is not None
    params = dict(parse_qsl(query[:MAX_QUERY_BYTES].decode("latin-1")))
    challenge = verification_answer(params, token.get_secret_value())
    if challenge is None:
        return error(403, "wrong hub.mode, hub.verify_token or hub.challenge")
    logger.info("whatsapp webhook verified")
    return Answer(200, challenge.encode(), b"text/plain; charset=utf-8")


async def _notify(runtime: WhatsAppRuntime, scope: Scope, receive: Receive) -> Answer:
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
        return OK
    await runtime.accept(notification)
    return OK
