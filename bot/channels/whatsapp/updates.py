"""What the inbox keeps of a Cloud API notification: one item per message or failed delivery.

Meta's notification (``entry[].changes[].value``) carries messages, delivery statuses and the
sender's profile (their WhatsApp name); we keep only the message or status object itself, each
as an ``Item``, never the profile (data minimisation). See
https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class Item(TypedDict):
    """One thing a person did (a message) or that happened to our message (a failed status)."""

    # The delivery id: Meta's message id ("wamid…"), or "<status id>:failed" for a status.
    id: str
    # The person's WhatsApp id: their phone number's digits, without "+".
    wa_id: str
    kind: Literal["message", "status"]
    # Order within the chat: the message's timestamp (seconds) * 1000 + its index in the
    # notification (capped at 999), so that two messages of one second keep their order.
    position: int
    # Meta's message object, or status object, unchanged.
    body: dict[str, Any]
