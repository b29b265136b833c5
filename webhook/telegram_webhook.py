"""POST /telegram/webhook: Telegram's deliveries, stored durably before answering 200."""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from bot.telegram.runtime import WEBHOOK_PATH, TelegramRuntime

router = APIRouter(tags=["telegram"])
MAX_UPDATE_BYTES = 1_000_000


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def telegram_webhook(
    request: Request,
    secret: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> JSONResponse:
    """Accept an update once; processing happens after the answer, in the update's chat order."""
    runtime: TelegramRuntime | None = request.app.state.telegram
    if runtime is None:
        raise HTTPException(404, "the Telegram channel is not configured")
    expected = runtime.settings.telegram_webhook_secret
    # Without a configured secret anyone could post fake updates: refuse them all.
    if expected is None or not hmac.compare_digest(
        (secret or "").encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(403, "wrong or missing X-Telegram-Bot-Api-Secret-Token")
    body = await request.body()
    if len(body) > MAX_UPDATE_BYTES:
        raise HTTPException(413, "update too large")
    try:
        update: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "body is not JSON") from None
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise HTTPException(400, "an update needs an integer update_id")
    await runtime.accept(update)
    return JSONResponse({"ok": True})
