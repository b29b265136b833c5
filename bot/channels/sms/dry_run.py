"""The SMS provider when none is configured: one log line per SMS that would have gone.

``make run`` works without a Brevo account, and shows when reminders would reach people. The
line says how long the SMS is and which booking it is about; never the number, nor the text
(it holds the link's token).
"""

from __future__ import annotations

import logging
from typing import Any

from bot.channels.sms.text import parts

logger = logging.getLogger(__name__)


class LoggingSms:
    """Logs instead of sending; every SMS is taken."""

    async def send(self, payload: dict[str, Any]) -> str | None:
        body = payload["body"]
        content = str(body.get("content", ""))
        unicode = bool(body.get("unicodeEnabled", False))
        logger.info(
            "sms would be sent (no SMS provider: AIGUILLAGE_SMS_API_KEY is not set)",
            extra={
                "sms_id": payload.get("sms_id"),
                "booking_id": payload.get("booking_id"),
                "length": len(content),
                "parts": parts(content, unicode=unicode),
            },
        )
        return None

    async def aclose(self) -> None:
        """Nothing to close."""
