"""The whole hand-off over real sockets: a person talks, a receiver gets a verified lead."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
import pytest

from bot.settings import Settings
from bot.storage.database import open_database
from flows.profile import Profile
from flows.rules import orient
from tests.auxil.personas import persona_params
from tests.auxil.servers import serve, unused_port
from tests.auxil.service_process import command, service, until_up
from tests.auxil.web_chat import drive
from tests.auxil.webhook_receiver import PATH, Receiver, register_endpoint, register_referrer
from webhook.app import create_app
from webhook.handoff.signing import new_secret


async def register(database_url: str, url: str, secret: str) -> None:
    # Its own connections: the service runs on another thread's loop.
    database = open_database(database_url)
    try:
        await register_endpoint(database, url, secret=secret)
        # The partner the personas come through (drive starts with its code).
        async with database.transaction() as tx:
            await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
    finally:
        await database.close()


def expected_orientation(profile: dict[str, Any]) -> dict[str, Any]:
    # Counsellors read the reasons in French.
    return orient(Profile.model_validate(profile), language="fr").model_dump(mode="json")


@pytest.mark.parametrize("persona", persona_params())
async def test_a_persona_through_the_web_chat_ends_as_a_verified_lead_webhook(
    persona: dict[str, Any], settings: Settings
) -> None:
    receiver, secret = Receiver(), new_secret()
    with receiver.running() as hook:
        await register(settings.database_url, hook, secret)
        with serve(create_app(settings)) as url:
            async with httpx.AsyncClient(base_url=url) as http:
                await drive(http, persona["profile"])
            await receiver.wait_for(1)
    [event] = receiver.verified(secret)
    assert event["type"] == "lead.created"
    assert event["data"]["channel"] == "web"
    assert event["data"]["referrer_code"] == "ML_POISSY"
    assert event["data"]["orientation"] == expected_orientation(persona["profile"])


async def tried_once(database_url: str) -> dict[str, Any]:
    database = open_database(database_url)
    try:
        for _ in range(200):
            async with database.transaction() as tx:
                row = await tx.fetch_one("SELECT * FROM webhook_deliveries")
            if row is not None and row["last_error"] is not None:
                return row
            await asyncio.sleep(0.05)
    finally:
        await database.close()
    raise AssertionError("the delivery was never tried")


async def test_a_service_killed_before_delivering_delivers_after_its_restart(
    settings: Settings,
) -> None:
    receiver_port, service_port = unused_port(), unused_port()
    secret = new_secret()
    await register(settings.database_url, f"http://127.0.0.1:{receiver_port}{PATH}", secret)
    url = f"http://127.0.0.1:{service_port}"
    profile = persona_params()[0].values[0]
    if profile is None:
        pytest.skip("personas not found")

    with service(settings.database_url, service_port) as first:
        await until_up(url)
        async with httpx.AsyncClient(base_url=url) as http:
            await drive(http, profile["profile"])
        # Its worker tried once, the receiver being down; then the process dies, no shutdown.
        queued = await tried_once(settings.database_url)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert queued["delivered_at"] is None

    receiver = Receiver()
    with receiver.running(port=receiver_port), service(settings.database_url, service_port):
        await until_up(url)
        await receiver.wait_for(1, within=30)
        await asyncio.sleep(0.5)  # a second copy would come now
    [event] = receiver.verified(secret)
    assert [r.webhook_id for r in receiver.received] == [queued["id"]]
    assert event["data"]["orientation"] == expected_orientation(profile["profile"])


async def test_the_worker_command_delivers_what_serve_queued_and_stops_on_sigterm(
    settings: Settings,
) -> None:
    receiver, secret = Receiver(), new_secret()
    with receiver.running() as hook:
        await register(settings.database_url, hook, secret)
        # Leads queued by a service that has no worker of its own.
        app = create_app(settings, background=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                profile = persona_params()[0].values[0]
                if profile is None:
                    pytest.skip("personas not found")
                await drive(http, profile["profile"])
        with command(settings.database_url, "worker") as worker:
            await receiver.wait_for(1, within=30)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=20) == 0
    [event] = receiver.verified(secret)
    assert event["type"] == "lead.created"
