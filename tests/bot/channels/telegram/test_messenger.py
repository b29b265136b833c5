"""The Telegram messenger's documents: a file stored in the outbox reaches the Bot API as a
real multipart upload through python-telegram-bot, and its refusals in the pipeline's terms."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.channels.telegram.messenger import TelegramMessenger
from bot.channels.telegram.render import MAX_CAPTION, document_call
from bot.messaging.messenger import Refused, SlowDown
from tests.auxil.bot_api_results import TEST_TOKEN
from tests.auxil.fake_bot_api import FakeBotApi

CHAT_ID = 4242
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:R\xc3\xa9union\r\nEND:VCALENDAR\r\n"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TEST_TOKEN) as server:
        yield server


@pytest.fixture
async def messenger(fake: FakeBotApi) -> AsyncIterator[TelegramMessenger]:
    async with Bot(TEST_TOKEN, base_url=fake.base_url) as bot:
        yield TelegramMessenger(bot)


async def test_a_stored_document_is_uploaded_with_its_name_type_and_caption(
    fake: FakeBotApi, messenger: TelegramMessenger
) -> None:
    call = document_call(CHAT_ID, "rendez-vous.ics", ICS, "Ton rendez-vous 📅")
    # The outbox keeps the payload as JSON: what is sent is what comes back from it.
    stored = json.loads(json.dumps(call.payload))

    await messenger.call(call.method, stored)

    [sent] = fake.calls_to("sendDocument")
    assert sent.params["chat_id"] == CHAT_ID
    assert sent.params["caption"] == "Ton rendez-vous 📅"
    assert sent.params["document"]["filename"] == "rendez-vous.ics"
    [upload] = fake.uploads
    assert (upload.method, upload.field) == ("sendDocument", "document")
    assert (upload.filename, upload.content_type) == ("rendez-vous.ics", "text/calendar")
    assert upload.content == ICS


def test_the_call_names_its_chat_and_cuts_a_caption_telegram_would_refuse() -> None:
    call = document_call(CHAT_ID, "rendez-vous.ics", ICS, "mot " * 400)

    assert call.chat == CHAT_ID
    assert len(call.payload["caption"]) <= MAX_CAPTION
    assert "caption" not in document_call(CHAT_ID, "a.ics", ICS, "").payload


async def test_a_refused_upload_is_told_as_for_any_call(
    fake: FakeBotApi, messenger: TelegramMessenger
) -> None:
    call = document_call(CHAT_ID, "rendez-vous.ics", ICS, "")
    fake.fail_next("sendDocument", status=429, retry_after=3)
    fake.fail_next("sendDocument", status=403)

    with pytest.raises(SlowDown) as slow:
        await messenger.call(call.method, call.payload)
    with pytest.raises(Refused) as refused:
        await messenger.call(call.method, call.payload)

    assert slow.value.seconds == 3
    assert refused.value.blocked


async def test_a_damaged_stored_document_is_refused_without_a_call(
    fake: FakeBotApi, messenger: TelegramMessenger
) -> None:
    payload = document_call(CHAT_ID, "rendez-vous.ics", ICS, "").payload
    payload["document"] = payload["document"] | {"content_base64": "not base64!"}

    with pytest.raises(Refused):
        await messenger.call("sendDocument", payload)

    assert fake.calls_to("sendDocument") == []


async def test_other_calls_go_as_before(fake: FakeBotApi, messenger: TelegramMessenger) -> None:
    await messenger.call("sendMessage", {"chat_id": CHAT_ID, "text": "Bonjour"})

    assert fake.sent_texts(CHAT_ID) == ["Bonjour"]
    assert fake.uploads == []
