"""The conversation service on a fresh database (the funnel's and the partners' figures), and
a service with the Telegram channel on a recording request, driven step by step."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from telegram import Bot

from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.settings import Settings
from bot.storage.database import open_database
from tests.auxil.bot_api_results import TEST_TOKEN
from tests.auxil.recording_request import RecordingRequest
from tests.auxil.telegram_harness import SECRET, ClockedTelegram, TelegramHarness
from tests.auxil.virtual_clock import ClockedRecorder, VirtualClock
from tests.auxil.webhook_receiver import register_referrer
from webhook.app import create_app


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[ConversationService]:
    """The conversation service alone, its flows loaded, on the test's database."""
    database = open_database(database_url)
    conversations = ConversationService(database, FlowRegistry())
    await conversations.prepare()
    try:
        yield conversations
    finally:
        await database.close()


@pytest.fixture
def recorder() -> RecordingRequest:
    return RecordingRequest()


@pytest.fixture
def telegram_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(TEST_TOKEN),
            "telegram_webhook_secret": SecretStr(SECRET),
            "telegram_bot_username": "AiguillageBot",
        }
    )


@pytest.fixture
async def telegram(
    telegram_settings: Settings, recorder: RecordingRequest
) -> AsyncIterator[TelegramHarness]:
    bot = Bot(TEST_TOKEN, request=recorder, get_updates_request=RecordingRequest())
    app = create_app(telegram_settings, telegram_bot=bot, background=False)
    async with app.router.lifespan_context(app):
        # The tests' referral links are a registered partner's: other codes count as unknown.
        async with app.state.database.transaction() as tx:
            await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
        app.state.telegram.pipeline.sender.chat_pace.interval = 0
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield TelegramHarness(app, client, recorder)


@pytest.fixture
async def clocked(telegram_settings: Settings) -> AsyncIterator[ClockedTelegram]:
    clock = VirtualClock()
    recorder = ClockedRecorder(clock)
    bot = Bot(TEST_TOKEN, request=RecordingRequest(), get_updates_request=RecordingRequest())
    app = create_app(telegram_settings, telegram_bot=bot, background=False)
    async with app.router.lifespan_context(app):
        harness = ClockedTelegram(app, clock, recorder)
        await harness.runtime.bot.initialize()
        yield harness
        await harness.runtime.pipeline.sender.flush()
