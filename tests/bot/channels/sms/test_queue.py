"""SMS on the shared outbox: queued in the caller's transaction, sent by the outbox sender
through Brevo (a fake on a real socket), never to a number that said STOP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.channels.sms.numbers import phone_hash
from bot.channels.sms.queue import queue_sms
from bot.channels.sms.runtime import SmsRuntime
from bot.channels.sms.store import SmsStatus, add_stop, status_of
from bot.clock import utcnow
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.models import OutboxMessage, SmsMessage
from tests.auxil.fake_sms_api import FakeSmsApi
from tests.auxil.sms_payloads import PERSON, PERSON_DIGITS

TEXT = "Rappel : ta réunion d'information est demain à 10 h. https://x.example/rdv/TOKEN"


async def queue(database: Database, phone: str = PERSON, text: str = TEXT, **kw: Any) -> bool:
    async with database.transaction() as tx:
        return await queue_sms(tx, booking_id=None, phone=phone, text=text, now=utcnow(), **kw)


async def outbox_rows(database: Database) -> list[tuple[Any, ...]]:
    async with database.transaction() as tx:
        return await tx.all(
            select(
                OutboxMessage.channel,
                OutboxMessage.chat_id,
                OutboxMessage.payload,
                OutboxMessage.sent_at,
                OutboxMessage.last_error,
                OutboxMessage.not_before,
            ).order_by(OutboxMessage.id)
        )


async def sms_ids(database: Database) -> list[int]:
    async with database.transaction() as tx:
        return await tx.scalars(select(SmsMessage.id).order_by(SmsMessage.id))


async def status(database: Database, sms_id: int) -> tuple[SmsStatus, str | None] | None:
    async with database.transaction() as tx:
        return await status_of(tx, sms_id)


@pytest.fixture
async def brevo() -> AsyncIterator[FakeSmsApi]:
    async with FakeSmsApi() as fake:
        yield fake


@pytest.fixture
async def runtime(
    settings: Settings, database: Database, brevo: FakeSmsApi
) -> AsyncIterator[SmsRuntime]:
    configured = settings.model_copy(
        update={"sms_api_key": SecretStr(brevo.api_key), "sms_api_url": brevo.api_url}
    )
    sms = SmsRuntime(configured, database)
    await sms.start(background=False)
    yield sms
    await sms.stop()


async def test_an_sms_is_one_outbox_call_keyed_by_the_number_and_tagged_with_its_id(
    database: Database,
) -> None:
    assert await queue(database, phone="06 12 34 56 78")

    [sms_id] = await sms_ids(database)
    [(channel, chat_id, payload, sent_at, _, _)] = await outbox_rows(database)
    assert (channel, chat_id, sent_at) == ("sms", int(PERSON_DIGITS), None)
    body = payload["body"]
    assert body["recipient"] == PERSON_DIGITS
    assert body["tag"] == str(sms_id)
    assert body["type"] == "transactional"
    assert await status(database, sms_id) == (SmsStatus.QUEUED, None)


async def test_every_sms_ends_with_the_stop_notice_in_the_persons_language(
    database: Database,
) -> None:
    await queue(database, text="Rappel demain")
    await queue(database, text="Reminder tomorrow", language="en")
    french, english = [row[2]["body"]["content"] for row in await outbox_rows(database)]
    assert french.startswith("Rappel demain\n")
    assert french.endswith("STOP")
    assert english.startswith("Reminder tomorrow\n")
    assert english.rstrip().endswith("STOP")


async def test_french_letters_outside_the_sms_alphabet_lose_their_accent_not_half_the_room(
    database: Database,
) -> None:
    await queue(database, text="Ta réunion à Pantin, c’est l’étape où tu découvres : ça démarre")
    await queue(database, text="Bravo 🎉")
    plain, emoji = [row[2]["body"] for row in await outbox_rows(database)]
    assert plain["content"].startswith("Ta réunion à Pantin, c'est l'étape où tu découvres : ca")
    assert plain["unicodeEnabled"] is False
    assert emoji["unicodeEnabled"] is True


@pytest.mark.parametrize("phone", ["01 23 45 67 89", "+447700900123", "pas un numéro", ""])
async def test_no_sms_to_a_landline_a_foreign_number_or_no_number(
    database: Database, phone: str
) -> None:
    assert not await queue(database, phone=phone)
    assert await outbox_rows(database) == []
    assert await sms_ids(database) == []


async def test_no_sms_to_a_number_that_said_stop(database: Database) -> None:
    async with database.transaction() as tx:
        await add_stop(tx, phone_hash(PERSON), now=utcnow())
        await add_stop(tx, phone_hash(PERSON), now=utcnow())  # said twice: kept once
    assert not await queue(database, phone="0612345678")
    assert await outbox_rows(database) == []
    assert await queue(database, phone="0712345678")  # another number still gets its SMS


async def test_the_outbox_sender_sends_it_through_brevo_and_it_is_marked_sent(
    database: Database, runtime: SmsRuntime, brevo: FakeSmsApi
) -> None:
    await queue(database)

    assert await runtime.send_pending() == 1
    [body] = brevo.sent()
    assert body["recipient"] == PERSON_DIGITS
    assert body["sender"] == "PoleS"
    assert body["content"].startswith("Rappel : ta réunion")
    [(_, _, _, sent_at, last_error, _)] = await outbox_rows(database)
    assert sent_at is not None
    assert last_error is None
    [sms_id] = await sms_ids(database)
    assert await status(database, sms_id) == (SmsStatus.SENT, None)
    # Sent once: nothing is left to send.
    assert await runtime.send_pending() == 0
    assert len(brevo.calls) == 1


async def test_an_sms_brevo_refuses_is_failed_and_never_sent_again(
    database: Database, runtime: SmsRuntime, brevo: FakeSmsApi
) -> None:
    await queue(database)
    brevo.fail_next(400, "invalid_parameter")

    await runtime.send_pending()

    [(_, _, _, sent_at, last_error, _)] = await outbox_rows(database)
    assert sent_at is not None
    assert last_error == "HTTP 400 invalid_parameter"
    [sms_id] = await sms_ids(database)
    assert await status(database, sms_id) == (SmsStatus.FAILED, "HTTP 400 invalid_parameter")
    assert await runtime.send_pending() == 0


async def test_an_sms_brevo_asks_to_wait_for_is_sent_later(
    database: Database, runtime: SmsRuntime, brevo: FakeSmsApi
) -> None:
    await queue(database)
    brevo.fail_next(429, headers={"Retry-After": "30"})
    before = datetime.now(UTC)

    assert await runtime.send_pending() == 0

    [(_, _, _, sent_at, _, not_before)] = await outbox_rows(database)
    assert sent_at is None
    assert not_before.replace(tzinfo=UTC) >= before + timedelta(seconds=29)
    [sms_id] = await sms_ids(database)
    assert await status(database, sms_id) == (SmsStatus.QUEUED, None)


async def test_without_a_key_the_sms_is_logged_without_the_number_nor_the_link_token(
    settings: Settings, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.sms_api_key is None
    runtime = SmsRuntime(settings, database)
    assert not runtime.enabled
    await queue(database)
    caplog.set_level(logging.INFO)
    try:
        assert await runtime.send_pending() == 1
    finally:
        await runtime.stop()

    [line] = [r for r in caplog.records if r.name == "bot.channels.sms.dry_run"]
    logged = line.getMessage() + repr(line.__dict__)
    assert line.getMessage().startswith("sms would be sent")
    assert getattr(line, "length") > len(TEXT)  # noqa: B009 (an extra of the record)
    for secret in (PERSON_DIGITS, "12 34", "TOKEN"):
        assert secret not in logged
    # What it would say, for whoever runs the service without a provider.
    assert getattr(line, "text").startswith("Rappel : ta réunion")  # noqa: B009
    assert "https://x.example/rdv/…" in getattr(line, "text")  # noqa: B009
    [sms_id] = await sms_ids(database)
    assert await status(database, sms_id) == (SmsStatus.SENT, None)
