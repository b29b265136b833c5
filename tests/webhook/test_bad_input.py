"""Bad input to the JSON APIs gets a 422 naming the problem: never a 500, never a traceback."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.auxil.web_chat import SESSION, bearer, send

JSON = {"Content-Type": "application/json"}


def _raw(body: str) -> bytes:
    # Python's JSON reader accepts NaN, Infinity and lone surrogates: so must the tests' bodies.
    return body.encode("utf-8")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"age": NaN}', "age"),
        ('{"age": 1e309}', "age"),
        ('{"age": -Infinity}', "age"),
        ('{"postal_code": "\\ud800"}', "postal_code"),
        ('{"criteria": ["\\udfff"]}', "criteria"),
        ('{"situation": NaN}', "situation"),
    ],
)
async def test_orient_names_the_field_of_a_value_json_cannot_echo(
    body: str, field: str, client: httpx.AsyncClient
) -> None:
    response = await client.post("/api/orient", content=_raw(body), headers=JSON)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"][:2] == ["body", field]
    assert error["msg"]
    assert "input" not in error
    assert "Traceback" not in response.text


async def test_a_key_json_cannot_echo_gets_a_422_saying_why(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/orient", content=_raw('{"\\ud800": 1}'), headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "string_unicode",
            "loc": ["body"],
            "msg": "Input should be a valid string, unable to parse raw data as a unicode string",
        }
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"text": NaN}', "text"),
        ('{"choices": [Infinity]}', "choices"),
        ('{"choice": 1e309}', "choice"),
        ('{"choice": "\\udc00"}', "choice"),
        ('{"payload": "\\ud800", "command": "start"}', "payload"),
    ],
)
async def test_chat_names_the_field_of_a_value_json_cannot_echo(
    body: str, field: str, client: httpx.AsyncClient
) -> None:
    # The body is refused whatever the session: the chat's contract is not what is tested here.
    response = await client.post("/api/chat", content=_raw(body), headers=JSON)
    assert response.status_code == 422
    assert ["body", field] in [error["loc"][:2] for error in response.json()["detail"]]


async def test_a_lone_surrogate_in_a_message_is_dropped_and_the_message_kept(
    client: httpx.AsyncClient,
) -> None:
    await send(client, command="start")
    await send(client, choice="yes")
    await send(client, choice="self")
    response = await client.post(
        "/api/chat", content=_raw('{"text": "19\\ud83d"}'), headers={**JSON, **bearer(SESSION)}
    )
    assert response.status_code == 200
    # "19" was read as the age: the next question is the postal code.
    assert response.json()["messages"][-1]["question"]["field"] == "postal_code"


@pytest.mark.parametrize("after", [2**31, 2**63, 10**30, -1])
async def test_pushed_messages_refuse_an_id_no_database_holds(
    after: int, client: httpx.AsyncClient
) -> None:
    await send(client, command="start")
    response = await client.get(
        "/api/chat/messages", params={"after": after}, headers=bearer(SESSION)
    )
    assert response.status_code == 422
    assert ["query", "after"] in [error["loc"] for error in response.json()["detail"]]


async def test_the_largest_id_a_database_holds_is_still_accepted(client: httpx.AsyncClient) -> None:
    await send(client, command="start")
    response = await client.get(
        "/api/chat/messages", params={"after": 2**31 - 1}, headers=bearer(SESSION)
    )
    assert response.status_code == 200
    assert response.json()["messages"] == []


async def test_an_unexpected_error_gets_a_short_500_without_details(app: FastAPI) -> None:
    @app.get("/boom-for-test")
    async def boom() -> None:
        raise RuntimeError("secret detail 06 12 34 56 78")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/boom-for-test")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert "secret" not in response.text
