"""The web chat page at / : served in the visitor's language, with its own files only."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from fastapi import FastAPI


def _json_blob(html: str, element_id: str) -> dict[str, object]:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, f"no #{element_id} blob in the page"
    blob: dict[str, object] = json.loads(match.group(1))
    return blob


async def test_the_page_is_french_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text
    assert "Écris ta réponse…" in response.text
    chrome = _json_blob(response.text, "i18n")
    assert chrome["send"] == "Envoyer"
    assert chrome["human"] == "Parler à un conseiller"
    assert chrome["connection_error"] == "Oups, la connexion a coupé. Réessaie dans un instant."
    assert _json_blob(response.text, "chat-config") == {
        "language": "fr",
        "start": None,
        "api": "/api/chat",
        "pages": ["/confidentialite"],
        "idle_minutes": 30,
    }


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?lang=en", {}), ("", {"Accept-Language": "en-GB,en;q=0.9"})],
    ids=["query", "accept-language"],
)
async def test_the_page_speaks_english_when_asked(
    query: str, headers: dict[str, str], client: httpx.AsyncClient
) -> None:
    response = await client.get(f"/{query}", headers=headers)
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Écris ta réponse" not in response.text
    chrome = _json_blob(response.text, "i18n")
    assert chrome["send"] == "Send"
    assert chrome["submit"] == "Confirm"
    assert chrome["none"] == "None"
    assert chrome["restart"] == "Start again"
    # The toggle offers the other language.
    assert 'data-testid="lang-button" data-language="fr"' in response.text


async def test_a_referral_code_is_passed_to_the_script(client: httpx.AsyncClient) -> None:
    response = await client.get("/", params={"start": "ML-93_Bondy"})
    assert _json_blob(response.text, "chat-config")["start"] == "ML-93_Bondy"


@pytest.mark.parametrize(
    "code",
    ["<script>alert(1)</script>", '"</script><script>alert(1)</script>', "a" * 65, "é"],
)
async def test_a_malformed_referral_code_is_ignored_not_reflected(
    code: str, client: httpx.AsyncClient
) -> None:
    response = await client.get("/", params={"start": code})
    assert response.status_code == 200
    assert _json_blob(response.text, "chat-config")["start"] is None
    assert "alert(1)" not in response.text
    assert "a" * 65 not in response.text


async def test_the_page_loads_no_outside_script(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", response.text)
    assert sources, "the chat script is missing"
    assert all(source.startswith("/static/") for source in sources), sources
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", response.text)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'self'" in policy


async def test_the_script_style_and_icon_are_served(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    for name, media_type in [
        ("chat.js", "javascript"),
        ("chat.css", "text/css"),
        ("icon.svg", "image/svg+xml"),
    ]:
        match = re.search(rf"\"(/static/{re.escape(name)}\?v=[0-9a-f]+)\"", page)
        assert match, f"{name} is not linked with a version"
        response = await client.get(match.group(1))
        assert response.status_code == 200, name
        assert media_type in response.headers["content-type"], name
    assert (await client.get("/static/nothing.js")).status_code == 404


async def test_the_privacy_notice_says_what_is_kept_and_how_to_erase_it(
    client: httpx.AsyncClient,
) -> None:
    french = await client.get("/confidentialite")
    english = await client.get("/confidentialite?lang=en")
    assert french.status_code == 200
    assert "/supprimer" in french.text
    assert "3 mois" in french.text
    assert "Your data" in english.text


async def test_the_telegram_webhook_is_absent_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/telegram/webhook", json={"update_id": 1})
    assert response.status_code == 404


async def test_the_footer_links_the_notice_the_consent_question_names(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    page = (await client.get("/?lang=en")).text
    assert 'href="/confidentialite?lang=en" data-testid="privacy-link"' in page
    assert 'href="/accessibilite?lang=en" data-testid="accessibility-link"' in page
    app.state.settings = app.state.settings.model_copy(
        update={"privacy_url": "https://poles.example/confidentialite"}
    )
    page = (await client.get("/")).text
    assert 'href="https://poles.example/confidentialite" data-testid="privacy-link"' in page
