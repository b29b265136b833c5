"""WhatsApp's customer-service window: free-form messages only within 24 hours of the
person's last message; outside it, only a template Meta approved.

The inbox keeps each message's position as Meta's own timestamp of it (updates.py), so the
window is measured from Meta's clock, as Meta measures it, with one probe of the chat's index.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.channels.whatsapp import CHANNEL
from bot.messaging import inbox
from bot.storage.database import Transaction

WINDOW = timedelta(hours=24)
# A message sent in the window's last minute could arrive after it closed: count it closed.
MARGIN = timedelta(minutes=1)
# Positions are Meta's timestamps in seconds, times this (the rest orders a notification's
# messages of the same second).
POSITIONS_PER_SECOND = 1000


def position_of(timestamp: int, index: int) -> int:
    """The inbox position of a message: Meta's timestamp, then its order in the notification."""
    return timestamp * POSITIONS_PER_SECOND + min(index, POSITIONS_PER_SECOND - 1)


async def last_heard(tx: Transaction, wa_id: str) -> datetime | None:
    """When the person last wrote (Meta's clock), if within the inbox's retention."""
    newest = await inbox.last_position(tx, CHANNEL, int(wa_id))
    if newest is None:
        return None
    return datetime.fromtimestamp(newest // POSITIONS_PER_SECOND, UTC)


async def is_open(tx: Transaction, wa_id: str, *, now: datetime) -> bool:
    """Whether a free-form message may be sent to the person now."""
    heard = await last_heard(tx, wa_id)
    return heard is not None and now < heard + WINDOW - MARGIN
