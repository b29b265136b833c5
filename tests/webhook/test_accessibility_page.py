"""The accessibility statement at /accessibilite: honest about its status, in the visitor's
language, with a way to report a problem and the recourse the RGAA requires."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.settings import Settings
from webhook.app import create_app
from webhook.web import CONTENT_SECURITY_POLICY

CONTACT = "accessibilite@poles.example"


def visible(page: httpx.Response) -> str:
    """The page's text as read on screen."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


@pytest.fixture
async def with_contact(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The service where PôleS has set up an address for accessibility problems."""
    with_address = settings.model_copy(update={"accessibility_contact": CONTACT})
    app = create_app(with_address, background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_the_statement_in_french_says_it_is_not_conformant_and_why(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/accessibilite")

    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    text = visible(page)
    assert "Déclaration d'accessibilité" in text
    assert "PôleS" in text
    assert "« non conforme » au RGAA 4.1" in text
    assert "audit" in text
    # What was tested, with what, and what is known not to work yet.
    for tested in ("axe-core 4.14", "Playwright", "Chromium", "clavier", "320 pixels", "200 %"):
        assert tested in text, tested
    for limit in ("NVDA", "VoiceOver", "QR code", "WhatsApp"):
        assert limit in text, limit
    # How to report, and where to complain after.
    assert "« Parler à un conseiller »" in text
    assert "Libre réponse 71120, 75342 Paris CEDEX 07" in text
    assert 'href="https://formulaire.defenseurdesdroits.fr/"' in page.text
    assert "30 novembre 2026" in text


async def test_the_statement_in_english(client: httpx.AsyncClient) -> None:
    for page in (
        await client.get("/accessibilite?lang=en"),
        await client.get("/accessibilite", headers={"Accept-Language": "en-GB,en;q=0.9"}),
    ):
        assert page.status_code == 200
        assert '<html lang="en">' in page.text
        text = visible(page)
        assert "Accessibility statement" in text
        assert "November 30, 2026" in text
        assert "Déclaration" not in text
        assert 'href="/?lang=en"' in page.text


async def test_the_contact_address_is_named_only_when_it_is_set(
    client: httpx.AsyncClient, with_contact: httpx.AsyncClient
) -> None:
    without = await client.get("/accessibilite")
    assert "mailto:" not in without.text
    assert "écrire à cette adresse" not in visible(without)

    page = await with_contact.get("/accessibilite")
    assert f'<a href="mailto:{CONTACT}">{CONTACT}</a>' in page.text
    assert "Tu peux aussi nous écrire à cette adresse" in visible(page)


async def test_the_statement_has_the_privacy_notice_s_policy_and_a_way_back_to_the_chat(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/accessibilite")

    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    privacy = await client.get("/confidentialite")
    assert page.headers["content-security-policy"] == privacy.headers["content-security-policy"]
    assert '<a href="/?lang=fr">Retour à la conversation</a>' in page.text
