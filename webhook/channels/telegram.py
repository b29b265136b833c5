"""POST /telegram/webhook: Telegram's deliveries, stored and applied before answering 200.

This one route is plain ASGI in front of FastAPI's routing: it takes every update people send,
and the routing, dependency solving and request objects cost more CPU than the rest of the
request (see the README's benchmark). It answers the way the Bot API expects: 200 once the
update is stored; 403 on a wrong secret token, 4xx with a ``detail`` on a delivery that is not
an update at all. An update Telegram would never send (nested too deeply, a chat that is not an
object) gets 200 and is ignored with one log line: delivered again, it would fail again.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from starlette.types import Receive, Scope

from bot.channels.telegram.runtime import WEBHOOK_PATH, TelegramRuntime
from webhook.channels.asgi import OK, Answer, ChannelWebhook, TooLarge, error, read_body

logger = logging.getLogger(__name__)
SECRET_HEADER = b"x-telegram-bot-api-secret-token"


class TelegramWebhook(ChannelWebhook):
    """ASGI middleware serving Telegram's webhook path and passing everything else on."""

    path = WEBHOOK_PATH

    async def handle(self, scope: Scope, receive: Receive) -> Answer:
        if scope["method"] != "POST":
            return error(405, "the Telegram webhook takes POST only")
        runtime: TelegramRuntime | None = scope["app"].state.telegram
        if runtime is None:
            return error(404, "the Telegram channel is not configured")
        expected = runtime.settings.telegram_webhook_secret
        given = next((v for k, v in scope["headers"] if k == SECRET_HEADER), b"")
        # Without a configured secret anyone could post fake updates: refuse them all.
        if expected is None or not hmac.compare_digest(given, expected.get_secret_value().encode()):
            return error(403, "wrong or missing X-Telegram-Bot-Api-Secret-Token")
        try:
            raw = await read_body(receive)
        except TooLarge:
            return error(413, "update too large")
        try:
            # Strict UTF-8, as Telegram sends: json.loads(bytes) would also read UTF-16 and
            # surrogates written as bytes, which clean_update's search of the raw bytes misses.
            update: Any = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return error(400, "body is not JSON")
        except RecursionError:
            # Nested past what the parser takes: no Telegram server sends that. A 200 so it
            # is not delivered again; one line, nothing of its content.
            logger.warning("telegram update ignored: nested too deeply")
            return OK
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return error(400, "an update needs an integer update_id")
        accepted = await runtime.accept(update, webhook=True, raw=raw)
        if accepted.webhook_answer is not None:
            return Answer(200, json.dumps(accepted.webhook_answer).encode())
        return OK
