"""The web chat's session token: issued by the server, stored hashed, short-lived when idle.

Someone who picks up a shared browser (a public PC, a family phone) must never see, change or
erase the answers of the person before them, and guessing tokens must return nothing.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from bot.channels.web.sessions import external_id_of
from bot.clock import utcnow
from bot.settings import Settings
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.running_app import running
from tests.auxil.web_chat import SESSION, bearer, drive, pushed, send, token_of
from webhook.app import create_app

NAME = "Samir"
PHONE_DIGITS = ("06 12 34 56 78", "+33612345678", "612345678")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No rate limits here: the token alone must refuse a guess, whatever limits add."""
    unlimited = dict.fromkeys(
        ("chat_address_per_minute", "chat_session_per_minute", "poll_address_per_minute"), 100_000
    )
    return settings.model_copy(update=unlimited)


def personal(text: str) -> bool:
    return NAME in text or any(phone in text for phone in PHONE_DIGITS)


async def idle_for(app: FastAPI, session: str, minutes: float) -> None:
    """Move the person's last activity into the past, as if they had left the browser."""
    async with app.state.database.transaction() as tx:
        await tx.execute(
            "UPDATE conversations SET updated_at = :at WHERE external_id = :external_id",
            {
                "at": utcnow() - timedelta(minutes=minutes),
                "external_id": external_id_of(token_of(session)),
            },
        )


async def test_start_issues_a_fresh_random_token_and_only_its_hash_is_stored(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await send(client, "first", command="start")
    second = await send(client, "second", command="start")
    assert first["session"] != second["session"]
    assert len(first["session"]) >= 43  # 32 random bytes, base64url
    async with app.state.database.transaction() as tx:
        stored = {
            row["external_id"] for row in await tx.fetch("SELECT external_id FROM conversations")
        }
    assert stored == {external_id_of(first["session"]), external_id_of(second["session"])}
    assert first["session"] not in stored


async def test_a_start_with_a_made_up_token_gets_a_new_one(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/chat",
        json={"command": "start"},
        headers={"Authorization": "Bearer my-session-000"},
    )
    assert response.status_code == 200
    assert response.json()["session"] != "my-session-000"


@pytest.mark.parametrize("authorization", [None, "Bearer my-session-000", "Basic abc", "Bearer "])
async def test_an_input_without_a_live_token_is_refused_naming_the_session(
    authorization: str | None, client: httpx.AsyncClient
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await client.post("/api/chat", json={"text": "/mes_donnees"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("session: unknown or expired")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    polled = await client.get("/api/chat/messages", headers=headers)
    assert polled.status_code == 401


async def test_guessing_tokens_returns_nothing_personal(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await drive(client, SAMIR_IN_PANTIN)
    mine = await send(client, text="/mes_donnees")
    assert any(personal(m["text"]) for m in mine["messages"])  # the live session sees them
    stored_key = external_id_of(token_of(SESSION))
    # The README's old example ids, random well-formed tokens, and what a copy of the
    # database holds (the stored key is not the token).
    guesses = [f"my-session-{n:03d}" for n in range(150)]
    guesses += [secrets.token_urlsafe(32) for _ in range(147)]
    guesses += [stored_key, stored_key[:43], token_of(SESSION) + "x"]
    for number, guess in enumerate(guesses):
        headers = {"Authorization": f"Bearer {guess}"}
        command = ("/mes_donnees", "/supprimer", "oui")[number % 3]
        answer = await client.post("/api/chat", json={"text": command}, headers=headers)
        assert answer.status_code == 401, guess
        assert not personal(answer.text)
        if number % 10 == 0:
            polled = await client.get("/api/chat/messages", headers=headers)
            assert polled.status_code == 401
    # And the person's lead is still there.
    async with app.state.database.transaction() as tx:
        assert await tx.fetch_one("SELECT id FROM leads") is not None


async def test_an_idle_session_opens_nothing_and_a_start_begins_someone_new(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await drive(client, SAMIR_IN_PANTIN)
    old = bearer(SESSION)
    await idle_for(app, SESSION, minutes=31)
    for body in ({"text": "/mes_donnees"}, {"text": "/supprimer"}, {"choice": "erase_yes"}):
        refused = await client.post("/api/chat", json=body, headers=old)
        assert refused.status_code == 401
    assert (await client.get("/api/chat/messages", headers=old)).status_code == 401
    fresh = await client.post("/api/chat", json={"command": "start"}, headers=old)
    assert fresh.json()["session"] != token_of(SESSION)
    assert "Salut" in fresh.json()["messages"][0]["text"]
    assert not personal(fresh.text)


async def test_a_session_still_active_within_the_idle_window_resumes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await send(client, command="start")
    await send(client, choice="yes")
    await idle_for(app, SESSION, minutes=29)
    resumed = await send(client, command="start")
    assert resumed["session"] == token_of(SESSION)
    assert "On reprend" in resumed["messages"][0]["text"]


async def test_the_idle_window_is_a_setting(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"web_session_idle_minutes": 5}))
    async with running(app) as client:
        await send(client, command="start")
        await idle_for(app, SESSION, minutes=6)
        response = await client.post("/api/chat", json={"choice": "yes"}, headers=bearer(SESSION))
    assert response.status_code == 401


async def test_contact_details_show_to_the_live_session_that_gave_them(
    client: httpx.AsyncClient,
) -> None:
    await drive(client, SAMIR_IN_PANTIN)
    data = await send(client, text="/mes_donnees")
    texts = "\n".join(m["text"] for m in data["messages"])
    assert "Samir" in texts
    assert "06 12 34 56 78" in texts
    assert "transmise" in texts  # where the request stands


async def test_a_restart_is_someone_new_on_a_new_token_and_the_lead_is_left_alone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await drive(client, SAMIR_IN_PANTIN)
    before = token_of(SESSION)
    for restart in ({"command": "restart"}, {"text": "/recommencer"}, {"choice": "restart"}):
        await drive(client, SAMIR_IN_PANTIN, "previous")
        finished = token_of("previous")
        again = await send(client, "previous", **restart)
        assert again["session"] != finished, restart
        assert "Salut" in again["messages"][0]["text"]
        data = await send(client, "previous", text="/mes_donnees")
        assert not personal("\n".join(m["text"] for m in data["messages"])), restart
    async with app.state.database.transaction() as tx:
        leads = await tx.fetch("SELECT first_name FROM leads")
    assert [lead["first_name"] for lead in leads] == ["Samir"] * 4
    assert token_of(SESSION) == before


async def test_a_person_who_finished_and_comes_back_hears_where_their_request_stands(
    client: httpx.AsyncClient,
) -> None:
    await drive(client, SAMIR_IN_PANTIN)
    back = await send(client, command="start")
    assert back["session"] == token_of(SESSION)
    assert "Ta demande du" in back["messages"][0]["text"]
    assert "transmise" in back["messages"][0]["text"]
    assert not any("Salut" in m["text"] for m in back["messages"])
    assert not personal(back["messages"][0]["text"])


async def test_erased_answers_leave_the_token_opening_nothing(client: httpx.AsyncClient) -> None:
    await drive(client, SAMIR_IN_PANTIN)
    asked = await send(client, text="/supprimer")
    question = asked["messages"][-1]["question"]
    assert [c["value"] for c in question["choices"]] == ["erase_yes", "erase_no"]
    headers = bearer(SESSION)
    await send(client, choice="erase_yes")
    again = await client.post("/api/chat", json={"text": "/mes_donnees"}, headers=headers)
    assert again.status_code == 401


async def test_the_token_never_appears_in_a_log_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await drive(client, SAMIR_IN_PANTIN)
    await send(client, text="/mes_donnees")
    await pushed(client)
    token = token_of(SESSION)
    assert caplog.records
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in repr(record.__dict__)
