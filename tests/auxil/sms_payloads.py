"""Brevo's transactional SMS webhook calls, as documented; and a web chat person's booking
with SMS reminders, which the SMS and the link's page are about.

Source: https://developers.brevo.com/docs/transactional-webhooks, section "Transactional SMS"
(attributes: id = the webhook's id, to, sms_count, credits_used, messageId, remaining_credit,
msg_status "sent, delivered, soft_bounce, hard_bounce", date (CET/CEST), type, reference),
and the event words of Brevo's SMS event report (its OpenAPI's SmsEventReport; the official
PHP client's docs/Model/GetSmsEventReportEvents.md): sent, accepted, delivered, replied,
softBounce, hardBounce, subscribe, unsubscribe, skip, rejected.

SENT is the page's example as published (its last three attributes, cut from the copy we
could read, filled in from the attribute table). DELIVERED is the delivered example as
quoted from the same page by a public integration's notes. The others follow the attribute
table with the event words of the report API: Brevo publishes no example of them, so the
webhook reads both spellings and both the number fields a reply may use.
"""

from __future__ import annotations

import copy
from typing import Any

SOURCE_URL = "https://developers.brevo.com/docs/transactional-webhooks"
PERSON_DIGITS = "33612345678"
PERSON = "+33612345678"

SENT: dict[str, Any] = {
    "id": 26570,
    "to": "918076001713",
    "sms_count": 1,
    "credits_used": 1.5,
    "messageId": 123,
    "remaining_credit": 11488.845,
    "msg_status": "sent",
    "date": "2024-10-09 13:10:17",
    "type": "transactional",
    "reference": {"1": "1hi8srff049z0qzvgt3f"},
}

DELIVERED: dict[str, Any] = {
    "id": 26527,
    "status": "OK",
    "msg_status": "delivered",
    "description": "delivered",
    "to": "919102600071",
    "ts_event": 1728459617,
    "date": "2024-10-09 13:10:17",
    "messageId": 123,
    "reference": {"1": "1hi8srff049z0qzvgt3f"},
    "tag": ["tag1name"],
    "type": "transactional",
}

HARD_BOUNCE: dict[str, Any] = {**SENT, "msg_status": "hard_bounce"}
SOFT_BOUNCE: dict[str, Any] = {**SENT, "msg_status": "soft_bounce"}
UNSUBSCRIBED: dict[str, Any] = {**SENT, "msg_status": "unsubscribe", "description": "Keyword STOP"}
REPLIED_STOP: dict[str, Any] = {**SENT, "msg_status": "replied", "reply": "Stop"}
REPLIED_OTHER: dict[str, Any] = {
    **SENT,
    "msg_status": "replied",
    "reply": "J'arrive un peu en retard",
}


def about(
    event: dict[str, Any],
    *,
    sms_id: int | None,
    to: str = PERSON_DIGITS,
    message_id: int | None = None,
) -> dict[str, Any]:
    """A documented event about one of our SMS: its tag our id, sent to ``to``."""
    changed = copy.deepcopy(event)
    changed["to"] = to
    if sms_id is None:
        changed.pop("tag", None)
    else:
        changed["tag"] = [str(sms_id)]
    if message_id is not None:
        changed["messageId"] = message_id
    return changed
