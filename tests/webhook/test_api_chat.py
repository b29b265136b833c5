"""The web chat API: personas from greeting to orientation, and every kind of bad request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from flows.profile import Profile
from flows.rules import orient
from tests.auxil.personas import persona_params
from tests.auxil.web_chat import SESSION, bearer, drive, last_question, send


@pytest.mark.parametrize("persona", persona_params())
async def test_personas_end_with_the_orientation_of_their_profile(
    persona: dict[str, Any], client: httpx.AsyncClient
) -> None:
    orientation, fields = await drive(client, persona["profile"])
    expected = orient(Profile.model_validate(persona["profile"])).model_dump(mode="json")
    assert orientation == expected
    assert fields[:2] == ["consent", "asker"]


async def test_a_parent_is_not_asked_about_their_own_situation(client: httpx.AsyncClient) -> None:
    _, fields = await drive(client, {"child_age": 11, "postal_code": "93380"})
    assert "situation" not in fields
    assert "age" not in fields


async def test_a_school_pupil_is_not_asked_about_france_travail_or_allowances(
    client: httpx.AsyncClient,
) -> None:
    profile = {"age": 15, "postal_code": "93500", "situation": "school", "diploma_level": "below_3"}
    _, fields = await drive(client, profile)
    assert "france_travail" not in fields
    assert "criteria" not in fields


async def test_a_wrong_postal_code_is_answered_kindly(client: httpx.AsyncClient) -> None:
    await send(client, command="start")
    await send(client, choice="yes")
    await send(client, choice="self")
    await send(client, text="19")
    reply = await send(client, text="abc")
    assert "5 chiffres, par exemple 93500" in reply["messages"][0]["text"]
    assert last_question(reply)["field"] == "postal_code"  # type: ignore[index]


async def test_english_from_the_browser_language(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/chat", json={"command": "start"}, headers={"Accept-Language": "en-GB,en"}
    )
    assert "PôleS" in response.json()["messages"][0]["text"]
    assert "Hi" in response.json()["messages"][0]["text"]
    assert response.json()["language"] == "en"


async def test_each_reply_says_the_language_it_is_written_in(client: httpx.AsyncClient) -> None:
    # A conversation begun in English and carried on from a French page is still answered in
    # English: the page marks the bubbles with the language the reply says, for screen readers.
    started = await client.post(
        "/api/chat", json={"command": "start"}, headers={"Accept-Language": "en"}
    )
    token = {"Authorization": f"Bearer {started.json()['session']}"}
    answered = await client.post("/api/chat?lang=fr", json={"choice": "yes"}, headers=token)
    assert answered.json()["language"] == "en"
    assert "for your child" in answered.json()["messages"][-1]["text"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "send exactly one of"),
        ({"text": "a", "choice": "b"}, "got text, choice"),
        ({"command": "dance"}, "command"),
        ({"text": "a" * 4001}, "text"),
        ({"choices": "qpv"}, "choices"),
        # The token travels in the Authorization header only, never in the body.
        ({"session": "my-session-001", "text": "a"}, "session"),
    ],
)
async def test_bad_requests_get_422_naming_the_problem(
    body: dict[str, Any], problem: str, client: httpx.AsyncClient
) -> None:
    await send(client, command="start")
    response = await client.post("/api/chat", json=body, headers=bearer(SESSION))
    assert response.status_code == 422
    assert problem in response.text


@pytest.mark.parametrize(
    "text", ["🙂🙂", "x" * 3999, "", "   ", "\u0000", "<script>alert(1)</script>"]
)
async def test_odd_texts_are_reasked_not_crashed(text: str, client: httpx.AsyncClient) -> None:
    await send(client, command="start")
    reply = await send(client, text=text)
    assert "Choisis une des réponses" in reply["messages"][0]["text"]
    assert last_question(reply)["field"] == "consent"  # type: ignore[index]
