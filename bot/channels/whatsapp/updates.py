"""What the inbox keeps of a Cloud API notification: one item per message or failed delivery.

Meta's notification (``entry[].changes[].value``) carries messages, delivery statuses and the
sender's profile (their WhatsApp name); we keep only the message or status object itself, each
as an ``Item``, never the profile (data minimisation). See
https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

# An item's position: Meta's timestamp of the message in seconds, times this, plus its index
# in the notification, so that two messages of one second keep their order.
POSITIONS_PER_SECOND = 1000


class Item(TypedDict):
    """One thing a person did (a message) or that happened to our message (a failed status)."""

    # The delivery id: Meta's message id ("wamid…"), or "<status id>:failed" for a status.
    id: str
    # The person's WhatsApp id: their phone number's digits, without "+".
    wa_id: str
    kind: Literal["message", "status"]
    # Order within the chat (``position_of``).
    position: int
    # Meta's message object, or status object, unchanged.
    body: dict[str, Any]


def position_of(timestamp: int, index: int) -> int:
    """The position of a message: Meta's timestamp, then its order in the notification."""
    return timestamp * POSITIONS_PER_SECOND + min(index, POSITIONS_PER_SECOND - 1)


def written_at(position: int) -> datetime:
    """When the person wrote the message at this position (Meta's clock)."""
    return datetime.fromtimestamp(position // POSITIONS_PER_SECOND, UTC)
