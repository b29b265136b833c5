"""Telegram over real sockets: updates POSTed to the webhook, replies through PTB's HTTP client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bot.settings import Settings
from bot.storage.database import Database, open_database
from bot.storage.models import InboxUpdate
from flows import engine
from flows.profile import Profile
from flows.rules import orient
from flows.state import ConversationState
from tests.auxil import telegram_updates as tg
from tests.auxil.bot_api_results import TEST_TOKEN
from tests.auxil.fake_bot_api import FakeBotApi
from tests.auxil.personas import answer_for, persona_params
from tests.auxil.servers import serve
from tests.auxil.stored_rows import conversation_row, count_rows
from tests.auxil.webhook_receiver import Receiver, register_endpoint, register_referrer
from webhook.app import create_app
from webhook.handoff.signing import new_secret

SECRET = "e2e-secret"
CHAT = 777001


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    with FakeBotApi(token=TEST_TOKEN) as fake:
        yield fake


def telegram_app(settings: Settings, fake: FakeBotApi, *, pace: float = 0.05) -> FastAPI:
    configured = settings.model_copy(
        update={
            "telegram_token": SecretStr(TEST_TOKEN),
            "telegram_webhook_secret": SecretStr(SECRET),
            "telegram_api_url": fake.base_url,
            "public_url": "https://bot.example.org",
        }
    )
    app = create_app(configured)
    # Real Telegram allows a message a second per chat; tests keep the mechanism, shorter.
    app.state.telegram.pipeline.sender.chat_pace.interval = pace
    return app


async def deliver(http: httpx.AsyncClient, update: dict[str, Any], fake: FakeBotApi) -> None:
    """POST an update as Telegram does, making the call the response may carry."""
    response = await http.post(
        "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 200
    await fake.take_webhook_answer(response.content)


async def replies(fake: FakeBotApi, chat_id: int, count: int, wait: float = 10.0) -> list[Any]:
    """Wait until the chat has ``count`` messages and then stays quiet a moment; return them."""
    deadline = time.monotonic() + wait
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        calls = [
            c
            for c in fake.calls_to("sendMessage")
            if c.params.get("chat_id") == chat_id and c.status == 200
        ]
        if len(calls) != seen:
            seen, quiet_since = len(calls), time.monotonic()
        elif len(calls) >= count and time.monotonic() - quiet_since > 0.15:
            return calls
        await asyncio.sleep(0.02)
    return calls


async def current_state(reader: Database, chat_id: int) -> ConversationState:
    row = await conversation_row(reader, str(chat_id))
    assert row is not None
    return ConversationState.model_validate(row.state)


def press_for(params: dict[str, Any], reply: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """The callback data a person presses to give this answer."""
    rows = [row[0] for row in params.get("reply_markup", {}).get("inline_keyboard", [])]
    assert rows, params
    if "choice" in reply:
        return [
            next(
                b["callback_data"]
                for b in rows
                if b["callback_data"].endswith("|" + reply["choice"])
            )
        ]
    step = rows[0]["callback_data"].split("|")[1]
    order = [b["text"][2:].strip() for b in rows if b["callback_data"].startswith("t|")]
    mask = sum(1 << order.index(labels[v]) for v in reply["choices"])
    return [f"m|{step}|{mask}"]


@pytest.mark.parametrize("persona", persona_params()[:1] + persona_params()[4:5])
async def test_a_persona_from_a_referral_link_to_its_orientation(
    persona: dict[str, Any], settings: Settings, fake_api: FakeBotApi
) -> None:
    app = telegram_app(settings, fake_api)
    profile = persona["profile"]
    # The service runs in its own thread and loop: the test reads through its own database.
    reader = open_database(settings.database_url)
    receiver, secret = Receiver(), new_secret()
    with receiver.running() as hook, serve(app) as url:
        await register_endpoint(reader, hook, secret=secret)
        async with reader.transaction() as tx:
            await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
        async with httpx.AsyncClient(base_url=url) as http:
            await deliver(http, tg.message(CHAT, "/start ML_POISSY"), fake_api)
            sent = await replies(fake_api, CHAT, 1)
            for _ in range(40):
                state = await current_state(reader, CHAT)
                if state.done:
                    break
                async with reader.transaction() as tx:
                    peeked = await app.state.conversations.peek(
                        tx, channel="telegram", external_id=str(CHAT)
                    )
                question = peeked[1][-1].question.model_dump()
                reply = answer_for(question, profile)
                if question["kind"] in ("choice", "multi"):
                    labels = {c["value"]: c["label"] for c in question["choices"]}
                    for data in press_for(sent[-1].params, reply, labels):
                        await deliver(http, tg.press(CHAT, data), fake_api)
                elif question["kind"] == "phone":
                    await deliver(http, tg.contact(CHAT, "33612345678"), fake_api)
                else:
                    await deliver(http, tg.message(CHAT, reply["text"]), fake_api)
                sent = await replies(fake_api, CHAT, len(sent) + 1)
            state = await current_state(reader, CHAT)
        await receiver.wait_for(1)
    await reader.close()
    assert state.done
    expected = orient(Profile.model_validate(profile)).model_dump(mode="json")
    assert engine.current_orientation(state).model_dump(mode="json") == expected  # type: ignore[union-attr]
    webhook = fake_api.calls_to("setWebhook")[0].params
    assert webhook["url"] == "https://bot.example.org/telegram/webhook"
    assert webhook["secret_token"] == SECRET
    assert len(fake_api.calls_to("answerCallbackQuery")) == len(
        [c for c in fake_api.calls if c.method == "answerCallbackQuery"]
    )
    assert fake_api.max_rate_per_chat(window=0.05) <= 2
    # The counsellors got the lead, signed: verified with the standardwebhooks library.
    [lead] = receiver.verified(secret)
    assert lead["type"] == "lead.created"
    assert lead["data"]["channel"] == "telegram"
    assert lead["data"]["referrer_code"] == "ML_POISSY"
    assert lead["data"]["orientation"] == orient(Profile.model_validate(profile)).model_dump(
        mode="json"
    )


async def test_two_services_on_one_database_behave_as_one_bot(
    settings: Settings, fake_api: FakeBotApi
) -> None:
    first, second = telegram_app(settings, fake_api), telegram_app(settings, fake_api)
    chats = [900001 + i for i in range(6)]
    with serve(first) as url_a, serve(second) as url_b:
        async with httpx.AsyncClient(base_url=url_a) as a, httpx.AsyncClient(base_url=url_b) as b:
            steps = [
                lambda chat: tg.message(chat, "/start"),
                lambda chat: tg.press(chat, "c|consent|yes"),
                lambda chat: tg.press(chat, "c|asker|self"),
                lambda chat: tg.message(chat, "19"),
            ]
            for number, make in enumerate(steps, start=1):
                updates = [make(chat) for chat in chats]
                # Telegram retries: each update reaches both services; chats alternate first.
                await asyncio.gather(
                    *(deliver(a if i % 2 else b, u, fake_api) for i, u in enumerate(updates))
                )
                await asyncio.gather(
                    *(deliver(b if i % 2 else a, u, fake_api) for i, u in enumerate(updates))
                )
                for chat in chats:
                    assert len(await replies(fake_api, chat, number)) == number
            await asyncio.sleep(0.3)
    for chat in chats:
        texts = fake_api.sent_texts(chat)
        assert len(texts) == 4, texts  # one reply per update, never two
        assert texts[-1].endswith("Quel est ton code postal ?")
    reader = open_database(settings.database_url)
    try:
        pending = await count_rows(reader, InboxUpdate, InboxUpdate.processed_at.is_(None))
    finally:
        await reader.close()
    assert pending == 0


async def test_a_burst_from_one_chat_is_answered_in_order_at_the_chat_s_pace(
    settings: Settings, fake_api: FakeBotApi
) -> None:
    pace = 0.05
    app = telegram_app(settings, fake_api, pace=pace)
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            for update in (
                tg.message(CHAT, "/start"),
                tg.press(CHAT, "c|consent|yes"),
                tg.press(CHAT, "c|asker|self"),
            ):
                await deliver(http, update, fake_api)
            await replies(fake_api, CHAT, 3)
            # Back to back, as a fast typist or an album does: each POST is answered once its
            # update is stored, before its reply goes out.
            for n in range(12):
                await deliver(http, tg.message(CHAT, "19" if n % 2 == 0 else "/retour"), fake_api)
            sent = (await replies(fake_api, CHAT, 15))[3:]
    texts = [call.params["text"] for call in sent]
    assert [t.endswith("Quel est ton code postal ?") for t in texts] == [
        n % 2 == 0 for n in range(12)
    ]
    gaps = [later.at - earlier.at for earlier, later in zip(sent, sent[1:], strict=False)]
    assert min(gaps) >= pace * 0.8  # the time on the wire may bring two arrivals a little closer
