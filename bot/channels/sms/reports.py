"""What Brevo reports about the SMS we sent: delivery statuses, and people who said STOP.

Brevo posts one event per call (or a list of them, with batched webhooks), as documented in
https://developers.brevo.com/docs/transactional-webhooks ("Transactional SMS"): the status in
``msg_status`` (sent, delivered, soft_bounce, hard_bounce, …; its SMS report API spells them
sent, accepted, delivered, replied, softBounce, hardBounce, subscribe, unsubscribe, skip,
rejected), the number in ``to``, Brevo's ``messageId`` and our ``tag``. Both spellings are
read alike. An event is matched to our SMS by its tag (our id), else by Brevo's id; a STOP
(an unsubscribe, or a reply saying STOP) keeps the number's hash so nothing goes to it again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.appointments.bookings import get_booking
from bot.channels.sms import store
from bot.channels.sms.numbers import from_digits, phone_hash
from bot.channels.sms.store import SmsStatus
from bot.storage.database import Database, Transaction

logger = logging.getLogger(__name__)

_STATUSES = {
    "sent": SmsStatus.SENT,
    "accepted": SmsStatus.SENT,
    "delivered": SmsStatus.DELIVERED,
    "softbounce": SmsStatus.FAILED,
    "softbounced": SmsStatus.FAILED,
    "hardbounce": SmsStatus.FAILED,
    "hardbounced": SmsStatus.FAILED,
    "rejected": SmsStatus.FAILED,
    "skip": SmsStatus.FAILED,
    "skipped": SmsStatus.FAILED,
    "blocked": SmsStatus.FAILED,
    "error": SmsStatus.FAILED,
    "failed": SmsStatus.FAILED,
    "undelivered": SmsStatus.FAILED,
}
_UNSUBSCRIBED = frozenset({"unsubscribe", "unsubscribed", "unsubscription", "stop"})
_REPLIED = frozenset({"replied", "reply", "inbound", "received"})
# Where a reply's words may be; a reply is a STOP when it starts with the word, or when Brevo
# says the keyword was STOP.
_REPLY_FIELDS = ("reply", "text", "content", "message", "description")
_STOP_WORDS = re.compile(r"^\s*stop\b|\bkeyword\W+stop\b", re.IGNORECASE)
MAX_EVENTS = 100
# The event names Brevo uses are short words; anything else is logged as "other".
_WORD = re.compile(r"^[a-z]{1,24}$")


@dataclass(frozen=True)
class Report:
    """One event about an SMS, as read from Brevo's call."""

    event: str  # Brevo's word, lower case without separators ("softbounce")
    sms_id: int | None  # our id, from the tag
    provider_id: str | None
    number: str | None  # E.164
    status: SmsStatus | None  # the status it moves the SMS to, if any
    stop: bool  # the person asked for no more SMS

    @property
    def detail(self) -> str:
        """The provider's word kept with the status."""
        return self.event


def read_reports(payload: Any) -> list[Report]:
    """The events of a webhook call (one object or a list); what is no event is left out."""
    events = payload if isinstance(payload, list) else [payload]
    return [read_event(event) for event in events[:MAX_EVENTS] if isinstance(event, dict)]


def read_event(event: dict[str, Any]) -> Report:
    word = _word(event.get("msg_status")) or _word(event.get("event"))
    replied = word in _REPLIED
    stop = word in _UNSUBSCRIBED or (replied and _says_stop(event))
    number_keys = ("from", "to", "phoneNumber") if replied else ("to", "phoneNumber", "from")
    return Report(
        event=word if _WORD.match(word) else "other",
        sms_id=_our_id(event.get("tag", event.get("tags"))),
        provider_id=_provider_id(event.get("messageId")),
        number=next((n for key in number_keys if (n := _number(event.get(key))) is not None), None),
        status=_STATUSES.get(word),
        stop=stop,
    )


async def apply_reports(database: Database, reports: list[Report], *, now: datetime) -> int:
    """Record the reports (each in its own transaction); how many matched an SMS of ours."""
    matched = 0
    for report in reports:
        async with database.transaction() as tx:
            sms_id = await _advance(tx, report, now)
            matched += sms_id is not None
            if report.stop:
                await _stop(tx, report, sms_id, now)
        logger.info(
            "sms report",
            extra={"sms_event": report.event, "sms_id": sms_id, "stop": report.stop},
        )
    return matched


async def _advance(tx: Transaction, report: Report, now: datetime) -> int | None:
    if report.status is None:
        # A reply or an unsubscribe names the SMS it answers, if any: the number may be there.
        if report.sms_id is not None and await store.status_of(tx, report.sms_id):
            return report.sms_id
        return None
    return await store.advance(
        tx,
        sms_id=report.sms_id,
        provider_id=report.provider_id,
        status=report.status,
        detail=report.detail,
        now=now,
    )


async def _stop(tx: Transaction, report: Report, sms_id: int | None, now: datetime) -> None:
    number = report.number
    if number is None and sms_id is not None:
        booking_id = await store.booking_of(tx, sms_id)
        booking = await get_booking(tx, booking_id) if booking_id else None
        number = booking.sms_phone if booking else None
    if number is None:
        logger.warning("sms stop without a number: nothing to remember")
        return
    await store.add_stop(tx, phone_hash(number), now=now)


def _word(value: Any) -> str:
    return re.sub(r"[^a-z]", "", value.lower()) if isinstance(value, str) else ""


def _says_stop(event: dict[str, Any]) -> bool:
    return any(
        isinstance(event.get(key), str) and _STOP_WORDS.search(event[key]) is not None
        for key in _REPLY_FIELDS
    )


def _our_id(tag: Any) -> int | None:
    tags = tag if isinstance(tag, list) else [tag]
    for value in tags:
        if isinstance(value, str) and value.isdigit() and len(value) <= 18:
            return int(value)
    return None


def _provider_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    return text[:128] if text else None


def _number(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return from_digits(value) if isinstance(value, str) else None
