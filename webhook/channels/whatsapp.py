"""GET and POST /whatsapp/webhook: Meta's subscription handshake and its notifications.

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

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.channels.whatsapp.runtime import WEBHOOK_PATH, WhatsAppRuntime
from bot.channels.whatsapp.signature import valid_signature, verification_answer

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
SIGNATURE_HEADER = "x-hub-signature-256"


def _runtime(request: Request) -> WhatsAppRuntime | None:
    runtime: WhatsAppRuntime | None = request.app.state.whatsapp
    return runtime


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


@router.get(WEBHOOK_PATH)
async def subscribe(request: Request) -> Response:
    runtime = _runtime(request)
    if runtime is None:
        return _error(404, "the WhatsApp channel is not configured")
    token = runtime.settings.whatsapp_verify_token
    assert token is not None
    challenge = verification_answer(request.query_params, token.get_secret_value())
    if challenge is None:
        return _error(403, "wrong hub.mode, hub.verify_token or hub.challenge")
    logger.info("whatsapp webhook verified")
    return PlainTextResponse(challenge)


@router.post(WEBHOOK_PATH)
async def notify(request: Request) -> Response:
    runtime = _runtime(request)
    if runtime is None:
        return _error(404, "the WhatsApp channel is not configured")
    raw = await request.body()
    secret = runtime.settings.whatsapp_app_secret
    assert secret is not None
    if not valid_signature(
        secret.get_secret_value().encode(), raw, request.headers.get(SIGNATURE_HEADER)
    ):
        return _error(403, "wrong or missing X-Hub-Signature-256")
    try:
        notification: Any = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Signed by Meta, yet unreadable: never expected, and a retry would not read better.
        logger.warning("whatsapp notification ignored: not JSON")
        return JSONResponse({"ok": True})
    await runtime.accept(notification)
    return JSONResponse({"ok": True})
