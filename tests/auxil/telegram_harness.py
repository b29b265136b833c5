"""The Telegram channel of the real service in tests, on a recording request.

``TelegramHarness`` posts updates to the webhook endpoint and runs the workers until quiet;
``ClockedTelegram`` takes updates directly, its sender on a virtual clock. The fixtures that
build them live in tests/bot/conftest.py.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from telegram import Bot

from bot.channels.telegram.runtime import TelegramRuntime
from tests.auxil.bot_api_results import TEST_TOKEN
from tests.auxil.recording_request import RecordingRequest
from tests.auxil.settling import settle
from tests.auxil.virtual_clock import ClockedRecorder, VirtualClock

# The webhook's secret token in the tests' settings.
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
        await settle(self.runtime.pipeline)

    async def send(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver one update and return the sendMessage calls it caused."""
        before = len(self.recorder.calls_to("sendMessage"))
        response = await self.post(update)
        assert response.status_code == 200, response.text
        await self.settle()
        return [c.params for c in self.recorder.calls_to("sendMessage")[before:]]


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
