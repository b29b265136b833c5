"""POST /api/orient serves the rules to partners' tools."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.auxil.personas import persona_params


@pytest.mark.parametrize("persona", persona_params())
async def test_personas_through_the_api(persona: dict[str, Any], client: httpx.AsyncClient) -> None:
    response = await client.post("/api/orient", json=persona["profile"])
    assert response.status_code == 200
    result = response.json()
    assert result["iae"] == persona["expected"]["iae"]
    assert {p["id"]: p["fit"] for p in result["programmes"]} == persona["expected"]["fit"]
    assert result["sites"] == persona["expected"]["sites"]


async def test_language_follows_the_query_then_accept_language(client: httpx.AsyncClient) -> None:
    profile = {"age": 20, "situation": "school"}
    english = await client.post("/api/orient?lang=en", json=profile)
    browser = await client.post(
        "/api/orient", json=profile, headers={"Accept-Language": "en-GB,en;q=0.9"}
    )
    french = await client.post("/api/orient", json=profile)
    assert "no longer at school" in english.text
    assert browser.json() == english.json()
    assert "plus à l'école" in french.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"age": 300}, "age"),
        ({"postal_code": "abc"}, "postal_code"),
        ({"criteria": ["foo"]}, "criteria"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_bad_profiles_get_422_naming_the_field(
    body: dict[str, Any], field: str, client: httpx.AsyncClient
) -> None:
    response = await client.post("/api/orient", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


async def test_not_json_gets_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/orient", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_the_endpoint_is_documented_in_openapi(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/api/orient"]["post"]
    assert "422" in operation["responses"]
    assert "Profile" in schema["components"]["schemas"]
    assert (await client.get("/docs")).status_code == 200
