"""Queueing an SMS: a row of our own to follow it, and one outbox call the shared sender makes.

The call is queued in the caller's transaction (a reminder's, say), so that the SMS is sent
if and only if what caused it is committed; the outbox sender (bot/messaging/sender.py) sends
it at the provider's pace, retries it, and keeps it until the retention purge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.appointments.bookings import bookings_of_lead
from bot.channels.sms import CHANNEL, store
from bot.channels.sms.numbers import digits, mobile_number, phone_hash
from bot.channels.sms.text import gsm_text, with_stop_notice
from bot.messaging import outbox
from bot.messaging.outbox import ApiCall
from bot.storage.database import Transaction
from flows.i18n import Language

METHOD = "sms"


async def queue_sms(
    tx: Transaction,
    *,
    booking_id: str | None,
    phone: str,
    text: str,
    now: datetime,
    language: Language = "fr",
) -> bool:
    """Queue an SMS to ``phone`` (its text ends with the STOP notice); False, and nothing
    queued, when the number said STOP or is not a French mobile number."""
    number = mobile_number(phone)
    if number is None or await store.stopped(tx, phone_hash(number)):
        return False
    content, unicode = gsm_text(with_stop_notice(text, language))
    sms_id = await store.add_message(tx, booking_id=booking_id, now=now)
    call = ApiCall(
        METHOD, sms_payload(sms_id, booking_id, number, content, unicode), int(digits(number))
    )
    await outbox.enqueue(tx, CHANNEL, [call], now=now)
    return True


def sms_payload(
    sms_id: int, booking_id: str | None, number: str, content: str, unicode: bool
) -> dict[str, Any]:
    """The outbox's call: the provider's body (the messenger adds the sender and where to
    report), and what is ours: which SMS and which booking it is."""
    return {
        "sms_id": sms_id,
        "booking_id": booking_id,
        "body": {
            "recipient": digits(number),
            "content": content,
            "type": "transactional",
            "tag": str(sms_id),
            "unicodeEnabled": unicode,
        },
    }


async def stop_sms(tx: Transaction, phone: str, *, now: datetime) -> None:
    """The person asked for no more SMS (from a link's page): none goes to the number again."""
    number = mobile_number(phone) or phone
    await store.add_stop(tx, phone_hash(number), now=now)


async def forget_lead_sms(tx: Transaction, lead_id: str) -> None:
    """The person asked for erasure: SMS to their numbers still in the outbox (which hold the
    number and the text) go; the SmsMessage rows go with the bookings (ON DELETE CASCADE)."""
    numbers = {
        number
        for booking in await bookings_of_lead(tx, lead_id)
        if booking.sms_phone and (number := mobile_number(booking.sms_phone))
    }
    for number in numbers:
        await outbox.forget_chat(tx, CHANNEL, int(digits(number)))
