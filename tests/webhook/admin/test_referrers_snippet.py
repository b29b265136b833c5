"""The partners page gives each registered code the line that shows the chat on its site."""

from __future__ import annotations

import html
import re

import httpx
from fastapi import FastAPI

from bot.partners.embedding import embed_snippet
from tests.auxil.admin_browser import Account, sign_in
from tests.auxil.webhook_receiver import register_referrer

SNIPPET = re.compile(
    r'<label class="snippet" for="(?P<id>[^"]+)">(?P<label>[^<]+)</label>\s*'
    r'<textarea id="(?P=id)"[^>]* readonly[^>]*>(?P<text>[^<]*)</textarea>'
)


async def _admin(admin_app: FastAPI, http: httpx.AsyncClient, account: Account) -> None:
    async with admin_app.state.database.transaction() as tx:
        await register_referrer(tx, "ML-BONDY", "Mission locale de Bondy")
    await sign_in(http, await account("admin"))


async def test_each_registered_code_has_its_snippet_ready_to_copy(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await _admin(admin_app, http, account)
    admin_app.state.settings = admin_app.state.settings.model_copy(
        update={"public_url": "https://aiguillage.example"}
    )
    page = (await http.get("/admin/referrers")).text
    found = [match.groupdict() for match in SNIPPET.finditer(page)]
    assert len(found) == 1
    assert found[0]["label"] == "Sur votre site :"
    line = html.unescape(found[0]["text"])
    assert line == (
        '<script src="https://aiguillage.example/embed.js" data-code="ML-BONDY" async></script>'
    )
    assert line == embed_snippet("https://aiguillage.example", "ML-BONDY")
    # What the line does, and that nothing is stored before the chat is opened, said once.
    assert 'id="snippet-help"' in page
    assert "Rien n'est enregistré dans le navigateur" in page


async def test_without_a_public_address_the_snippet_uses_this_pages_address(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await _admin(admin_app, http, account)
    page = (await http.get("/admin/referrers")).text
    texts = [html.unescape(match["text"]) for match in SNIPPET.finditer(page)]
    assert texts == [embed_snippet("http://testserver", "ML-BONDY")]
