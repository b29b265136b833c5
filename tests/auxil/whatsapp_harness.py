"""The WhatsApp channel of the real service in tests, against the fake Graph API.

``whatsapp_service`` runs the service with the channel on, its workers driven step by step;
``WhatsAppHarness`` posts signed notifications to the real webhook and returns what the
service sent to the fake Graph API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from bot.channels.whatsapp.runtime import WhatsAppRuntime
from bot.settings import Settings
from tests.auxil.fake_graph_api import TOKEN, FakeGraphApi
from tests.auxil.running_app import running
from tests.auxil.settling import settle
from tests.auxil.webhook_receiver import register_referrer
from tests.auxil.whatsapp_payloads import APP_SECRET, PHONE_NUMBER_ID, notification, raw, sign
from webhook.app import create_app

VERIFY_TOKEN = "verify-me-0123"
BUSINESS_NUMBER = "33612345678"


def whatsapp_settings(settings: Settings, fake: FakeGraphApi, **more: Any) -> Settings:
    """The tests' settings with the WhatsApp channel on, pointed at the fake Graph API."""
    return settings.model_copy(
        update={
            "whatsapp_token": SecretStr(TOKEN),
            "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_app_secret": SecretStr(APP_SECRET),
            "whatsapp_verify_token": SecretStr(VERIFY_TOKEN),
            "whatsapp_api_url": fake.api_url,
            "whatsapp_number": BUSINESS_NUMBER,
            **more,
        }
    )


class WhatsAppHarness:
    """Deliver notifications to the real webhook, then run the workers until quiet."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, fake: FakeGraphApi) -> None:
        self.app = app
        self.client = client
        self.fake = fake
        self.runtime: WhatsAppRuntime = app.state.whatsapp

    async def post(
        self, body: dict[str, Any] | bytes, *, signature: str | None = None
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else raw(body)
        header = signature if signature is not None else sign(content)
        return await self.client.post(
            "/whatsapp/webhook",
            content=content,
            headers={"X-Hub-Signature-256": header, "Content-Type": "application/json"},
        )

    async def settle(self) -> None:
        await settle(self.runtime.pipeline)

    async def send(self, *messages: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver messages in one notification; the Graph API messages they caused."""
        before = len(self.fake.messages())
        response = await self.post(notification(messages=list(messages)))
        assert response.status_code == 200, response.text
        await self.settle()
        return self.fake.messages()[before:]


@asynccontextmanager
async def whatsapp_service(settings: Settings, **more: Any) -> AsyncIterator[WhatsAppHarness]:
    """The service with WhatsApp on, against a fake Graph API, its workers driven by the test."""
    async with FakeGraphApi() as fake:
        app = create_app(whatsapp_settings(settings, fake, **more), background=False)
        async with running(app) as client:
            # The tests' referral links are a registered partner's: other codes count as unknown.
            async with app.state.database.transaction() as tx:
                await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
            app.state.whatsapp.pipeline.sender.chat_pace.interval = 0
            yield WhatsAppHarness(app, client, fake)
