"""The SMS provider when none is configured: one log line per SMS that would have gone.

``make run`` works without a Brevo account, and shows what reminders would say and when. The
line has the text with its link's token cut out (a reminder's text is the session's date and
place: nothing of the person's), how long it is and which booking it is about; never the
number.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.channels.sms.text import parts

logger = logging.getLogger(__name__)
# The signed token of a link (bot/appointments/links.py): whoever reads the logs must not get it.
_TOKEN = re.compile(r"(/rdv/)[A-Za-z0-9_-]+")


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
                "text": _TOKEN.sub(r"\1…", content),
                "length": len(content),
                "parts": parts(content, unicode=unicode),
            },
        )
        return None

    async def aclose(self) -> None:
        """Nothing to close."""
