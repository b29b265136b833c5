"""POST /sms/webhook as Brevo (and strangers) call it: only with the secret token, and a body of
the wrong shape changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from bot.channels.sms.queue import queue_sms
from bot.channels.sms.store import SmsStatus, status_of
from bot.clock import utcnow
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.models import SmsMessage, SmsStop
from tests.auxil import sms_payloads as brevo
from webhook.app import create_app
from webhook.channels.asgi import MAX_BODY_BYTES

URL = "/sms/webhook"
TOKEN = "brevo-calls-with-this-0123456789"


@pytest.fixture
def sms_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "sms_api_key": SecretStr("xkeysib-unused"),
            "sms_webhook_token": SecretStr(TOKEN),
        }
    )


async def client_for(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, app


@pytest.fixture
async def served(sms_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    async for pair in client_for(sms_settings):
        yield pair


async def queued_sms(app: FastAPI) -> int:
    database: Database = app.state.database
    async with database.transaction() as tx:
        assert await queue_sms(tx, booking_id=None, phone=brevo.PERSON, text="Rappel", now=utcnow())
        [sms_id] = await tx.scalars(select(SmsMessage.id))
    return sms_id


async def state(app: FastAPI, sms_id: int) -> tuple[tuple[SmsStatus, str | None] | None, int]:
    database: Database = app.state.database
    async with database.transaction() as tx:
        return await status_of(tx, sms_id), len(await tx.scalars(select(SmsStop.phone_hash)))


async def post(http: httpx.AsyncClient, body: Any, *, token: str | None = TOKEN) -> httpx.Response:
    params = {"token": token} if token is not None else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await http.post(
        URL, params=params, content=content, headers={"content-type": "application/json"}
    )


async def test_a_delivery_report_with_the_token_is_recorded(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = served
    sms_id = await queued_sms(app)

    response = await post(http, brevo.about(brevo.DELIVERED, sms_id=sms_id))

    assert response.status_code == 200
    assert await state(app, sms_id) == ((SmsStatus.DELIVERED, "delivered"), 0)


async def test_the_token_may_come_as_a_bearer_header_and_events_as_a_list(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = served
    sms_id = await queued_sms(app)
    events = [
        brevo.about(brevo.SENT, sms_id=sms_id),
        brevo.about(brevo.UNSUBSCRIBED, sms_id=sms_id),
    ]

    response = await http.post(URL, json=events, headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert await state(app, sms_id) == ((SmsStatus.SENT, "sent"), 1)


@pytest.mark.parametrize("token", [None, "", "brevo-calls-with-this-0123456788", TOKEN + "x"])
async def test_a_forged_or_missing_token_is_refused_and_changes_nothing(
    served: tuple[httpx.AsyncClient, FastAPI], token: str | None
) -> None:
    http, app = served
    sms_id = await queued_sms(app)

    response = await post(http, brevo.about(brevo.UNSUBSCRIBED, sms_id=sms_id), token=token)

    assert response.status_code == 403
    assert await state(app, sms_id) == ((SmsStatus.QUEUED, None), 0)


async def test_a_body_over_a_megabyte_is_refused(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, _ = served
    response = await post(http, b"[" + b" " * MAX_BODY_BYTES + b"]")
    assert response.status_code == 413


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[" * 100_000, b"42", b'"STOP"'])
async def test_a_body_that_is_no_report_is_taken_and_changes_nothing(
    served: tuple[httpx.AsyncClient, FastAPI], body: bytes
) -> None:
    http, app = served
    sms_id = await queued_sms(app)
    response = await post(http, body)
    assert response.status_code == 200
    assert await state(app, sms_id) == ((SmsStatus.QUEUED, None), 0)


async def test_only_post_is_served(served: tuple[httpx.AsyncClient, FastAPI]) -> None:
    http, _ = served
    response = await http.get(URL, params={"token": TOKEN})
    assert response.status_code == 405


@pytest.mark.parametrize(
    "update",
    [
        {"sms_api_key": None, "sms_webhook_token": SecretStr(TOKEN)},  # SMS off: logged only
        {"sms_api_key": SecretStr("xkeysib-unused"), "sms_webhook_token": None},
    ],
)
async def test_without_a_provider_or_a_token_there_is_no_webhook(
    settings: Settings, update: dict[str, Any]
) -> None:
    async for http, _ in client_for(settings.model_copy(update=update)):
        response = await post(http, brevo.SENT)
        assert response.status_code == 404
