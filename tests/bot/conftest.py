"""A service with the Telegram channel on a recording request, driven step by step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from telegram import Bot

from bot.channels.telegram.runtime import TelegramRuntime
from bot.settings import Settings
from tests.auxil.bot_api_results import TEST_TOKEN
from tests.auxil.recording_request import RecordingRequest
from tests.auxil.virtual_clock import ClockedRecorder, VirtualClock
from tests.auxil.webhook_receiver import register_referrer
from webhook.app import create_app

SECRET = "webhook-secret_1"


class TelegramHarness:
    """Deliver updates to the real webhook endpoint, then run the workers until quiet."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, recorder: RecordingRequest) -> None:
        self.app = app
        self.client = client
        self.recorder = recorder
        self.runtime: TelegramRuntime = app.state.telegram

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.client.post("/telegram/webhook", json=update, headers=headers)
        if response.status_code == 200:
            await self.recorder.take_webhook_answer(response.content)
        return response

    async def settle(self) -> None:
        for _ in range(50):
            done = await self.runtime.processor.process_pending()
            await self.runtime.sender.flush()  # replies delivered at once are marked in batches
            sent = await self.runtime.sender.send_pending()
            if not done and not sent:
                return

    async def send(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver one update and return the sendMessage calls it caused."""
        before = len(self.recorder.calls_to("sendMessage"))
        response = await self.post(update)
        assert response.status_code == 200, response.text
        await self.settle()
        return [c.params for c in self.recorder.calls_to("sendMessage")[before:]]


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
        app.state.telegram.sender.per_chat_interval = timedelta(0)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield TelegramHarness(app, client, recorder)


class ClockedTelegram:
    """The Telegram runtime on a virtual clock, updates accepted directly (no webhook)."""

    def __init__(self, app: FastAPI, clock: VirtualClock, recorder: ClockedRecorder) -> None:
        self.app = app
        self.clock = clock
        self.recorder = recorder
        self.runtime = TelegramRuntime(
            app.state.settings,
            app.state.conversations,
            app.state.database,
            bot=Bot(TEST_TOKEN, request=recorder, get_updates_request=RecordingRequest()),
            clock=clock,
        )


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
        await harness.runtime.sender.flush()
