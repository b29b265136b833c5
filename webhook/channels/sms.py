"""POST /sms/webhook: Brevo's reports about our SMS (delivered, bounced) and STOP answers.

Plain ASGI in front of FastAPI, like the messengers' webhooks (webhook/channels/asgi.py).
Brevo signs nothing, but lets the address carry a secret: the webhook is registered as
``/sms/webhook?token=<AIGUILLAGE_SMS_WEBHOOK_TOKEN>`` (or called with ``Authorization: Bearer
<token>``), compared in constant time. Off (404) without an SMS provider or a token; 403 for
a wrong token; a body that is no JSON is answered 200 with one log line (Brevo would only
send it again).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope

from bot.channels.sms.runtime import WEBHOOK_PATH, SmsRuntime
from webhook.channels.asgi import OK, Answer, ChannelWebhook, TooLarge, error, read_body
from webhook.deps import bearer_token

logger = logging.getLogger(__name__)
MAX_QUERY_BYTES = 2048


class SmsWebhook(ChannelWebhook):
    """ASGI middleware serving the SMS provider's webhook path and passing everything else on."""

    path = WEBHOOK_PATH

    async def handle(self, scope: Scope, receive: Receive) -> Answer:
        runtime: SmsRuntime | None = getattr(scope["app"].state, "sms", None)
        expected = runtime.webhook_token if runtime is not None else None
        if runtime is None or expected is None:
            return error(404, "SMS reports are not configured")
        if scope["method"] != "POST":
            return error(405, "the SMS webhook takes POST only")
        if not _authorised(scope, expected):
            return error(403, "wrong or missing token")
        try:
            raw = await read_body(receive)
        except TooLarge:
            return error(413, "report too large")
        try:
            payload: Any = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            logger.warning("sms report ignored: not JSON")
            return OK
        await runtime.accept_reports(payload)
        return OK


def _authorised(scope: Scope, expected: str) -> bool:
    query: bytes = scope.get("query_string", b"")
    params = dict(parse_qsl(query[:MAX_QUERY_BYTES].decode("latin-1")))
    header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
    given = params.get("token") or bearer_token(header.decode("latin-1") if header else None)
    return given is not None and hmac.compare_digest(
        given.encode("utf-8", "replace"), expected.encode("utf-8")
    )
