"""WhatsApp's customer-service window: free-form messages only within 24 hours of the
person's last message; outside it, only a template Meta approved.

The inbox keeps each message's position from Meta's own timestamp of it (updates.py), so the
window is measured from Meta's clock, as Meta measures it, with one probe of the chat's index.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.channels.whatsapp import CHANNEL
from bot.channels.whatsapp.updates import written_at
from bot.messaging import inbox
from bot.storage.database import Transaction

WINDOW = timedelta(hours=24)
# A message sent in the window's last minute could arrive after it closed: count it closed.
MARGIN = timedelta(minutes=1)


async def last_heard(tx: Transaction, wa_id: str) -> datetime | None:
    """When the person last wrote (Meta's clock), if within the inbox's retention."""
    newest = await inbox.last_position(tx, CHANNEL, int(wa_id))
    return written_at(newest) if newest is not None else None


async def is_open(tx: Transaction, wa_id: str, *, now: datetime) -> bool:
    """Whether a free-form message may be sent to the person now."""
    heard = await last_heard(tx, wa_id)
    return heard is not None and now < heard + WINDOW - MARGIN
