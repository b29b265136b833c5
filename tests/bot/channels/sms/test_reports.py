"""Brevo's reports, as documented, applied to our SMS: a status that only moves forward, and a
STOP that keeps the number from every later SMS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.sms.queue import queue_sms
from bot.channels.sms.reports import read_reports
from bot.channels.sms.runtime import SmsRuntime
from bot.channels.sms.store import SmsStatus, status_of
from bot.clock import utcnow
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.models import SmsMessage, SmsStop
from tests.auxil import sms_payloads as brevo
from tests.auxil.sessions import web_chat_booking
from tests.auxil.sms_payloads import PERSON


@pytest.fixture
async def runtime(settings: Settings, database: Database) -> SmsRuntime:
    return SmsRuntime(settings, database)


async def queued(database: Database, booking_id: str | None = None) -> int:
    async with database.transaction() as tx:
        assert await queue_sms(tx, booking_id=booking_id, phone=PERSON, text="Rappel", now=utcnow())
        ids = await tx.scalars(select(SmsMessage.id).order_by(SmsMessage.id.desc()))
    return ids[0]


async def status(database: Database, sms_id: int) -> tuple[SmsStatus, str | None] | None:
    async with database.transaction() as tx:
        return await status_of(tx, sms_id)


async def stops(database: Database) -> int:
    async with database.transaction() as tx:
        return len(await tx.scalars(select(SmsStop.phone_hash)))


async def can_still_text(database: Database) -> bool:
    async with database.transaction() as tx:
        return await queue_sms(tx, booking_id=None, phone=PERSON, text="Encore", now=utcnow())


def test_the_documented_examples_read_as_what_they_say() -> None:
    [sent] = read_reports(brevo.SENT)
    assert (sent.event, sent.status, sent.provider_id, sent.stop) == (
        "sent",
        SmsStatus.SENT,
        "123",
        False,
    )
    assert sent.number == "+918076001713"
    [delivered] = read_reports(brevo.DELIVERED)
    assert delivered.status == SmsStatus.DELIVERED
    assert delivered.sms_id is None  # "tag1name" is not one of ours
    assert read_reports([brevo.HARD_BOUNCE, brevo.SOFT_BOUNCE, {"not": "an event"}, 3]) != []
    assert [r.status for r in read_reports([brevo.HARD_BOUNCE, brevo.SOFT_BOUNCE])] == [
        SmsStatus.FAILED,
        SmsStatus.FAILED,
    ]
    assert [r.stop for r in read_reports([brevo.UNSUBSCRIBED, brevo.REPLIED_STOP])] == [
        True,
        True,
    ]
    assert not read_reports(brevo.REPLIED_OTHER)[0].stop
    # The report API's spelling reads the same.
    [camel] = read_reports({"event": "hardBounce", "messageId": "9", "tag": "12"})
    assert (camel.event, camel.status, camel.sms_id) == ("hardbounce", SmsStatus.FAILED, 12)


async def test_sent_then_delivered_and_a_late_sent_changes_nothing(
    database: Database, runtime: SmsRuntime
) -> None:
    sms_id = await queued(database)

    assert await runtime.accept_reports(brevo.about(brevo.SENT, sms_id=sms_id)) == 1
    assert await status(database, sms_id) == (SmsStatus.SENT, "sent")
    await runtime.accept_reports(brevo.about(brevo.DELIVERED, sms_id=sms_id))
    assert await status(database, sms_id) == (SmsStatus.DELIVERED, "delivered")
    await runtime.accept_reports(brevo.about(brevo.SENT, sms_id=sms_id))
    assert await status(database, sms_id) == (SmsStatus.DELIVERED, "delivered")


async def test_a_hard_bounce_fails_the_sms_with_brevos_word(
    database: Database, runtime: SmsRuntime
) -> None:
    sms_id = await queued(database)
    await runtime.accept_reports([brevo.about(brevo.HARD_BOUNCE, sms_id=sms_id)])
    assert await status(database, sms_id) == (SmsStatus.FAILED, "hardbounce")


async def test_a_report_without_our_tag_is_matched_by_brevos_id_once_it_is_known(
    database: Database, runtime: SmsRuntime
) -> None:
    sms_id = await queued(database)
    await runtime.accept_reports(brevo.about(brevo.SENT, sms_id=sms_id, message_id=555))

    matched = await runtime.accept_reports(
        brevo.about(brevo.DELIVERED, sms_id=None, message_id=555)
    )

    assert matched == 1
    assert await status(database, sms_id) == (SmsStatus.DELIVERED, "delivered")


async def test_a_report_about_no_sms_of_ours_changes_nothing(
    database: Database, runtime: SmsRuntime
) -> None:
    sms_id = await queued(database)
    assert await runtime.accept_reports(brevo.DELIVERED) == 0
    assert await runtime.accept_reports(brevo.about(brevo.SENT, sms_id=sms_id + 1000)) == 0
    assert await status(database, sms_id) == (SmsStatus.QUEUED, None)


@pytest.mark.parametrize("event", [brevo.UNSUBSCRIBED, brevo.REPLIED_STOP])
async def test_stop_keeps_the_number_from_every_later_sms_and_only_its_hash(
    database: Database, runtime: SmsRuntime, event: dict[str, Any]
) -> None:
    sms_id = await queued(database)

    await runtime.accept_reports(brevo.about(event, sms_id=sms_id))

    assert not await can_still_text(database)
    async with database.transaction() as tx:
        [kept] = await tx.scalars(select(SmsStop.phone_hash))
    assert brevo.PERSON_DIGITS not in kept
    assert len(kept) == 64
    # Said again: still one entry.
    await runtime.accept_reports(brevo.about(event, sms_id=sms_id))
    assert await stops(database) == 1


async def test_any_other_reply_is_no_stop(database: Database, runtime: SmsRuntime) -> None:
    sms_id = await queued(database)
    await runtime.accept_reports(brevo.about(brevo.REPLIED_OTHER, sms_id=sms_id))
    assert await stops(database) == 0
    assert await can_still_text(database)


async def test_a_stop_without_a_number_stops_the_number_of_the_booking_it_answers(
    database: Database, runtime: SmsRuntime
) -> None:
    booking, _ = await web_chat_booking(
        database, starts_at=utcnow() + timedelta(days=3), sms_phone=PERSON
    )
    sms_id = await queued(database, booking.id)
    event = brevo.about(brevo.UNSUBSCRIBED, sms_id=sms_id)
    del event["to"]

    await runtime.accept_reports(event)

    assert not await can_still_text(database)
