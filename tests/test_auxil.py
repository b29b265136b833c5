"""The Bot API fakes of tests/auxil, driven by a real python-telegram-bot 22 `Bot`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.warnings import PTBDeprecationWarning

from tests.auxil.bot_api_results import (
    BOT_USER,
    TEST_TOKEN,
    BotApiRecorder,
    Failure,
    max_in_window,
    retry_after_seconds,
    text_update,
)
from tests.auxil.fake_bot_api import FakeBotApi, parse_multipart
from tests.auxil.recording_request import RecordingRequest

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="consent:yes")]])


@pytest.fixture
def recording() -> RecordingRequest:
    return RecordingRequest()


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture(params=["recording", "http"])
async def api_and_bot(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[BotApiRecorder, Bot]]:
    """The same Bot API checks, once in process and once over real HTTP."""
    if request.param == "recording":
        recording = RecordingRequest()
        async with Bot(TEST_TOKEN, request=recording, get_updates_request=recording) as bot:
            yield recording, bot
        return
    fake: FakeBotApi = request.getfixturevalue("fake_api")
    async with Bot(TEST_TOKEN, base_url=fake.base_url) as bot:
        yield fake, bot


async def test_get_me_and_send_message_are_recorded_with_decoded_params(
    api_and_bot: tuple[BotApiRecorder, Bot],
) -> None:
    api, bot = api_and_bot
    assert bot.username == BOT_USER["username"]  # async with bot called getMe
    first = await bot.send_message(42, "hi", reply_markup=KEYBOARD)
    second = await bot.send_message(42, "42")

    assert (first.chat.id, first.text, first.reply_markup) == (42, "hi", KEYBOARD)
    assert second.message_id > first.message_id
    assert [call.method for call in api.calls] == ["getMe", "sendMessage", "sendMessage"]
    call = api.calls_to("sendMessage")[0]
    assert call.params["chat_id"] == 42
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "consent:yes"
    assert api.sent_texts(42) == ["hi", "42"]  # a text that looks like JSON stays a string
    assert api.sent_texts(7) == []
    api.clear()
    assert api.calls == []


async def test_programmed_429_raises_retry_after(
    api_and_bot: tuple[BotApiRecorder, Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, PTB 22.2+ warns while building RetryAfter (see the next test).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api, bot = api_and_bot
    api.fail_next("sendMessage")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(42, "hi")
    assert retry_after_seconds(caught.value) == 1
    await bot.send_message(42, "again")  # only the next call failed
    assert [call.status for call in api.calls_to("sendMessage")] == [429, 200]
    assert api.sent_texts() == ["again"]


async def test_retry_after_without_ptb_timedelta_warns(
    recording: RecordingRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under filterwarnings=error the code under test would see this warning, not RetryAfter.
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    recording.fail_next("sendMessage", retry_after=3)
    async with Bot(TEST_TOKEN, request=recording, get_updates_request=recording) as bot:
        with pytest.warns(PTBDeprecationWarning), pytest.raises(RetryAfter) as caught:
            await bot.send_message(42, "hi")
    assert retry_after_seconds(caught.value) == 3


async def test_blocked_chat_raises_forbidden_and_bad_request_is_programmable(
    api_and_bot: tuple[BotApiRecorder, Bot],
) -> None:
    api, bot = api_and_bot
    api.fail_chat(42)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "hi")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(42, "typing")
    assert await bot.send_chat_action(43, "typing") is True

    api.fail_next("editMessageText", status=400, description="Bad Request: message is not modified")
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("same", chat_id=43, message_id=1)
    edited = await bot.edit_message_text("new", chat_id=43, message_id=1)
    assert not isinstance(edited, bool)
    assert (edited.message_id, edited.text) == (1, "new")


async def test_other_methods_answer_true(
    api_and_bot: tuple[BotApiRecorder, Bot],
) -> None:
    api, bot = api_and_bot
    assert await bot.answer_callback_query("4382") is True
    assert await bot.set_webhook("https://example.org/telegram", secret_token="s3cret") is True
    assert (await bot.get_webhook_info()).url == "https://example.org/telegram"
    assert await bot.delete_webhook() is True
    assert await bot.delete_message(42, 1) is True
    assert await bot.set_my_commands([("start", "Commencer")]) is True
    assert await bot.set_chat_menu_button() is True
    assert await bot.do_api_request("someFutureMethod") is True
    assert api.calls_to("answerCallbackQuery")[0].params["callback_query_id"] == "4382"
    assert api.calls_to("setMyCommands")[0].params["commands"][0]["command"] == "start"


async def test_uploads_are_recorded_as_file_metadata(
    api_and_bot: tuple[BotApiRecorder, Bot],
) -> None:
    api, bot = api_and_bot
    document = InputFile(b"%PDF-1.4", filename="fiche.pdf")
    message = await bot.send_document(42, document, caption="Votre fiche\n1/2")
    assert message.caption == "Votre fiche\n1/2"
    params = api.calls_to("sendDocument")[0].params
    assert params["document"]["filename"] == "fiche.pdf"
    assert params["caption"] == "Votre fiche\n1/2"


async def test_get_updates_long_polls_and_honours_offset(
    api_and_bot: tuple[BotApiRecorder, Bot],
) -> None:
    api, bot = api_and_bot
    assert await bot.get_updates(timeout=0) == ()
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, api.queue_update, text_update(7, "bonjour"))

    started = loop.time()
    updates = await bot.get_updates(timeout=5)  # the fake waits at most 1 s
    assert loop.time() - started < 1.5
    assert len(updates) == 1
    assert updates[0].message is not None
    assert (updates[0].message.chat.id, updates[0].message.text) == (7, "bonjour")

    second = api.queue_update(text_update(7, "encore"))
    again = await bot.get_updates(offset=updates[0].update_id, timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id, second]
    after = await bot.get_updates(offset=second, timeout=0)  # confirms the first one
    assert [u.update_id for u in after] == [second]
    assert await bot.get_updates(offset=second + 1, timeout=1) == ()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    assert update.effective_message is not None
    await update.effective_chat.send_message(f"echo: {update.effective_message.text}")


@pytest.mark.parametrize("mode", ["recording", "http"])
async def test_application_polls_and_answers(mode: str, request: pytest.FixtureRequest) -> None:
    builder = ApplicationBuilder().token(TEST_TOKEN)
    api: BotApiRecorder
    if mode == "recording":
        api = recording = RecordingRequest()
        builder = builder.request(recording).get_updates_request(recording)
    else:
        fake: FakeBotApi = request.getfixturevalue("fake_api")
        api = fake
        builder = builder.base_url(fake.base_url)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        api.queue_update(text_update(7, "salut"))
        for _ in range(300):
            if api.sent_texts(7):
                break
            await asyncio.sleep(0.01)
        await application.updater.stop()
        await application.stop()
    assert api.sent_texts(7) == ["echo: salut"]
    assert [call.method for call in api.calls][:2] == ["getMe", "deleteWebhook"]


async def test_delay_and_rates_are_measured(fake_api: FakeBotApi) -> None:
    fake_api.delay_seconds = 0.05
    async with Bot(TEST_TOKEN, base_url=fake_api.base_url) as bot:
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(bot.send_message(chat, "hi") for chat in (1, 1, 1, 2)))
        assert asyncio.get_running_loop().time() - started >= 0.05
    assert fake_api.max_rate_per_chat() == 3
    assert fake_api.max_rate_overall() == 4
    assert fake_api.max_rate_per_chat(window=0.0) == 0


def test_max_in_window_counts_any_window() -> None:
    assert max_in_window([], 1.0) == 0
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5, 3.0], 1.0) == 3
    assert max_in_window([0.0, 1.0, 2.0], 1.0) == 1


def test_failure_body_matches_telegram() -> None:
    assert Failure(429, "Too Many Requests: retry after 1", 1).body() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert "parameters" not in Failure(403, "Forbidden", 1).body()


async def test_fake_accepts_json_and_form_bodies_and_checks_token() -> None:
    async with FakeBotApi(token=TEST_TOKEN) as fake, httpx.AsyncClient() as http:
        url = f"{fake.base_url}{TEST_TOKEN}/sendMessage"
        markup = {"inline_keyboard": [[{"text": "Oui", "callback_data": "yes"}]]}
        sent = await http.post(url, json={"chat_id": 5, "text": "a", "reply_markup": markup})
        assert sent.json()["result"]["reply_markup"] == markup
        await http.post(url, data={"chat_id": "5", "text": "b", "reply_markup": json.dumps(markup)})
        await http.get(url, params={"chat_id": "5", "text": "c"})
        denied = await http.post(f"{fake.base_url}123:wrong/getMe")
        assert (denied.status_code, denied.json()["ok"]) == (401, False)
        stats = (await http.get(f"{fake.url}/_fake/stats")).json()
    assert fake.sent_texts(5) == ["a", "b", "c"]
    assert fake.calls_to("sendMessage")[1].params["reply_markup"] == markup
    assert stats["by_method"] == {"sendMessage": 3}


def test_parse_multipart_keeps_text_exact() -> None:
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="caption"\r\n\r\nl1\r\nl2\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="doc"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nabc\r\n--XyZ--\r\n"
    )
    assert parse_multipart(body, "multipart/form-data; boundary=XyZ") == {
        "caption": "l1\r\nl2",
        "doc": {"filename": "a.txt", "content_type": "text/plain", "size": 3},
    }


def test_fake_starts_and_stops_from_plain_code() -> None:
    fake = FakeBotApi()
    fake.start()
    try:
        reply = httpx.get(f"{fake.base_url}{TEST_TOKEN}/getMe")
        assert reply.json() == {"ok": True, "result": BOT_USER}
    finally:
        fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{fake.base_url}{TEST_TOKEN}/getMe")
