"""The web chat's limits as a client meets them: 429 with Retry-After and a kind message,
per address and per session, the address behind a trusted proxy, and repeats coalesced."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request

from bot.settings import Settings, SettingsError, load_settings
from tests.auxil.clock import Ticks
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.web_chat import drive
from webhook.app import create_app
from webhook.rate_limits import ChatLimits, address_key, client_address

PERSON = ("203.0.113.10", 50000)
NEIGHBOUR = ("198.51.100.20", 50000)


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def limited_app(settings: Settings, ticks: Ticks, **limits: Any) -> FastAPI:
    configured = settings.model_copy(update=limits)
    app = create_app(configured, background=False)
    app.state.chat_limits = ChatLimits.from_settings(configured, clock=ticks)
    return app


def client_of(app: FastAPI, client: tuple[str, int] = PERSON) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def start(http: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await http.post("/api/chat", json={"command": "start"}, headers=headers)


async def test_beyond_the_address_rate_a_429_says_when_to_come_back(
    settings: Settings, ticks: Ticks
) -> None:
    app = limited_app(settings, ticks, chat_address_per_minute=3)
    async with app.router.lifespan_context(app), client_of(app) as person:
        for _ in range(3):
            assert (await start(person)).status_code == 200
        refused = await start(person)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "20"  # 3 a minute: one every 20 seconds
        detail = refused.json()["detail"]
        assert detail["retry_after"] == 20
        assert detail["message"].startswith("Oups, ça va un peu vite pour moi")
        assert "20 secondes" in detail["message"]
        english = await start(person, **{"Accept-Language": "en"})
        assert english.status_code == 429
        # Someone else is not held back by this address.
        async with client_of(app, NEIGHBOUR) as neighbour:
            assert (await start(neighbour)).status_code == 200
        ticks.now += 20
        assert (await start(person)).status_code == 200


async def test_a_session_has_its_own_rate(settings: Settings, ticks: Ticks) -> None:
    app = limited_app(settings, ticks, chat_session_per_minute=2, chat_repeat_seconds=0)
    async with app.router.lifespan_context(app), client_of(app) as person:
        token = (await start(person)).json()["session"]
        bearer = {"Authorization": f"Bearer {token}"}
        for answer in ("yes", "self"):
            response = await person.post("/api/chat", json={"choice": answer}, headers=bearer)
            assert response.status_code == 200
        refused = await person.post("/api/chat", json={"text": "23"}, headers=bearer)
        assert refused.status_code == 429
        # A new conversation from the same address is not this session.
        assert (await start(person)).status_code == 200


async def test_polling_is_limited_at_its_own_looser_rate(settings: Settings, ticks: Ticks) -> None:
    app = limited_app(settings, ticks, poll_session_per_minute=2)
    async with app.router.lifespan_context(app), client_of(app) as person:
        token = (await start(person)).json()["session"]
        bearer = {"Authorization": f"Bearer {token}"}
        for _ in range(2):
            assert (await person.get("/api/chat/messages", headers=bearer)).status_code == 200
        refused = await person.get("/api/chat/messages", headers=bearer)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "30"
        # Polling does not spend what the person needs to answer.
        response = await person.post("/api/chat", json={"choice": "yes"}, headers=bearer)
        assert response.status_code == 200


async def test_a_double_tap_is_one_step_answered_twice(settings: Settings, ticks: Ticks) -> None:
    app = limited_app(settings, ticks, chat_repeat_seconds=2)
    async with app.router.lifespan_context(app), client_of(app) as person:
        token = (await start(person)).json()["session"]
        bearer = {"Authorization": f"Bearer {token}"}
        first = await person.post("/api/chat", json={"choice": "yes"}, headers=bearer)
        again = await person.post("/api/chat", json={"choice": "yes"}, headers=bearer)
        assert again.json() == first.json()
        async with app.state.database.transaction() as tx:
            answers = await tx.fetch(
                "SELECT body FROM transcript_entries WHERE direction = 'in' ORDER BY id"
            )
        assert len(answers) == 1  # one "yes" (a first start is not an answer)
        # Once the window has passed, the same answer is a new step again.
        ticks.now += 2.5
        later = await person.post("/api/chat", json={"choice": "self"}, headers=bearer)
        assert later.json()["messages"] != first.json()["messages"]


async def test_the_same_answer_to_a_new_question_that_offers_it_is_meant(
    settings: Settings, ticks: Ticks
) -> None:
    # No allowance at all, twice in a row, on the two pages of the same question: both count.
    profile = {**SAMIR_IN_PANTIN, "criteria": [], "postal_code": "78300"}
    app = limited_app(settings, ticks, chat_repeat_seconds=60)
    async with app.router.lifespan_context(app), client_of(app) as person:
        _, fields = await drive(person, profile)
    assert fields.count("criteria") == 2


async def test_asking_for_a_counsellor_twice_at_once_is_one_request(
    settings: Settings, ticks: Ticks
) -> None:
    app = limited_app(settings, ticks, chat_repeat_seconds=2)
    async with app.router.lifespan_context(app), client_of(app) as person:
        token = (await start(person)).json()["session"]
        bearer = {"Authorization": f"Bearer {token}"}
        first = await person.post("/api/chat", json={"command": "human"}, headers=bearer)
        again = await person.post("/api/chat", json={"command": "human"}, headers=bearer)
        assert again.json() == first.json()
        async with app.state.database.transaction() as tx:
            answers = await tx.fetch("SELECT body FROM transcript_entries WHERE direction = 'in'")
        assert [a["body"] for a in answers] == ["/human"]


async def test_back_twice_is_meant_and_goes_back_twice(settings: Settings, ticks: Ticks) -> None:
    app = limited_app(settings, ticks, chat_repeat_seconds=2)
    async with app.router.lifespan_context(app), client_of(app) as person:
        token = (await start(person)).json()["session"]
        bearer = {"Authorization": f"Bearer {token}"}
        for choice in ("yes", "self"):
            await person.post("/api/chat", json={"choice": choice}, headers=bearer)
        for _ in range(2):
            await person.post("/api/chat", json={"command": "back"}, headers=bearer)
        async with app.state.database.transaction() as tx:
            answers = await tx.fetch("SELECT body FROM transcript_entries WHERE direction = 'in'")
        assert [a["body"] for a in answers].count("/back") == 2


def request_from(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_the_client_is_the_socket_peer_unless_it_is_a_trusted_proxy(settings: Settings) -> None:
    proxies = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8, ::1"})
    trusted = proxies.trusted_proxy_networks
    # Anyone can write the header: from an untrusted peer it is ignored.
    assert client_address(request_from("203.0.113.5", "1.2.3.4"), ()) == "203.0.113.5"
    assert client_address(request_from("203.0.113.5", "1.2.3.4"), trusted) == "203.0.113.5"
    # Through the proxy: the last address the proxies did not add themselves.
    forwarded = request_from("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.9")
    assert client_address(forwarded, trusted) == "198.51.100.7"
    assert client_address(request_from("::1", "2001:db8::5"), trusted) == "2001:db8::5"
    # A proxy that sends no usable address: the proxy stands for its client.
    assert client_address(request_from("10.0.0.2", "not-an-address"), trusted) == "10.0.0.2"
    assert client_address(request_from("10.0.0.2"), trusted) == "10.0.0.2"


async def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(
    settings: Settings, ticks: Ticks
) -> None:
    app = limited_app(settings, ticks, chat_address_per_minute=1, trusted_proxies="127.0.0.1")
    async with app.router.lifespan_context(app), client_of(app, ("127.0.0.1", 9)) as proxy:
        assert (await start(proxy, **{"X-Forwarded-For": "203.0.113.1"})).status_code == 200
        assert (await start(proxy, **{"X-Forwarded-For": "203.0.113.2"})).status_code == 200
        assert (await start(proxy, **{"X-Forwarded-For": "203.0.113.1"})).status_code == 429


def test_a_wrong_trusted_proxy_is_named_at_start(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="AIGUILLAGE_TRUSTED_PROXIES: 'nginx'"):
        load_settings(environment="test", trusted_proxies="10.0.0.1, nginx")


async def test_an_address_beyond_its_lead_limit_makes_held_leads_not_lost(
    settings: Settings, ticks: Ticks
) -> None:
    app = limited_app(settings, ticks, leads_per_address_per_hour=1)
    async with app.router.lifespan_context(app), client_of(app) as person:
        await drive(person, SAMIR_IN_PANTIN, "session-first-lead")
        await drive(person, SAMIR_IN_PANTIN, "session-second-lead")
        async with client_of(app, NEIGHBOUR) as neighbour:
            await drive(neighbour, SAMIR_IN_PANTIN, "session-neighbour")
        async with app.state.database.transaction() as tx:
            leads = await tx.fetch("SELECT held_at FROM leads ORDER BY created_at, id")
    assert [lead["held_at"] is not None for lead in leads] == [False, True, False]


def test_an_ipv6_subscriber_is_one_client_for_the_limits() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert address_key("203.0.113.5") == "203.0.113.5"


async def test_addresses_of_one_ipv6_network_share_a_bucket(
    settings: Settings, ticks: Ticks
) -> None:
    app = limited_app(settings, ticks, chat_address_per_minute=1)
    async with app.router.lifespan_context(app):
        async with client_of(app, ("2001:db8:5:6::1", 1)) as first:
            assert (await start(first)).status_code == 200
        async with client_of(app, ("2001:db8:5:6::2", 1)) as second:
            assert (await start(second)).status_code == 429
