"""/embed.js as partners' pages load it, and the chat page it frames (``/?embed=1``)."""

from __future__ import annotations

import gzip
import json
import re

import httpx
import pytest
from fastapi import FastAPI

from flows.i18n import text

# What a partner's page downloads before anyone opens the chat (the README's size budget).
MAX_BYTES = 6 * 1024
MAX_GZIP_BYTES = int(2.5 * 1024)


def _directive(policy: str, name: str) -> str:
    found = [part.strip() for part in policy.split(";") if part.strip().startswith(name + " ")]
    assert len(found) == 1, policy
    return found[0].removeprefix(name + " ")


def _config(page: str) -> dict[str, object]:
    match = re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', page)
    assert match is not None
    loaded: dict[str, object] = json.loads(match.group(1))
    return loaded


async def test_the_script_loads_in_any_page_small_and_cached_for_an_hour(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert "set-cookie" not in response.headers
    assert len(response.content) < MAX_BYTES
    assert len(gzip.compress(response.content, 9)) < MAX_GZIP_BYTES


async def test_the_script_is_revalidated_without_downloading_it_again(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get("/embed.js")
    again = await client.get("/embed.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cross-origin-resource-policy"] == "cross-origin"


async def test_the_script_carries_its_texts_in_both_languages(client: httpx.AsyncClient) -> None:
    body = (await client.get("/embed.js")).text
    assert "/* texts */" not in body
    for language in ("fr", "en"):
        assert json.dumps(text("embed.open", language), ensure_ascii=True) in body
    assert (
        "Discuter avec Aiguillage"
        in json.loads(
            re.search(r"const TEXTS = (\{.*?\});", body).group(1)  # type: ignore[union-attr]
        )["fr"]["open"]
    )


async def test_the_chat_page_cannot_be_framed_outside_embed_mode(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/", params={"start": "ML-BONDY"})
    policy = response.headers["content-security-policy"]
    assert _directive(policy, "frame-ancestors") == "'none'"
    assert "embed_parent" not in _config(response.text)


async def test_in_embed_mode_the_partners_sites_may_frame_it_and_nothing_else_changes(
    client: httpx.AsyncClient,
) -> None:
    normal = (await client.get("/")).headers["content-security-policy"]
    response = await client.get(
        "/",
        params={"start": "ML-BONDY", "embed": "1", "origin": "https://www.ml-bondy.fr"},
    )
    policy = response.headers["content-security-policy"]
    # By default any https site, and a webmaster's own computer.
    assert _directive(policy, "frame-ancestors") == "https: http://localhost:* http://127.0.0.1:*"
    assert policy.replace(_directive(policy, "frame-ancestors"), "'none'") == normal
    config = _config(response.text)
    # Attributed to the code exactly as /?start=ML-BONDY is.
    assert config["start"] == "ML-BONDY"
    assert config["embed_parent"] == "https://www.ml-bondy.fr"


async def test_in_embed_mode_the_footer_pages_open_in_a_tab_of_their_own(
    client: httpx.AsyncClient,
) -> None:
    # They may not be framed (frame-ancestors 'none'): followed inside the panel, they would
    # leave the person on a refused page and their conversation out of sight.
    embedded = (await client.get("/", params={"embed": "1"})).text
    footer = embedded.split('<footer class="foot">', 1)[1].split("</footer>", 1)[0]
    assert footer.count('target="_blank" rel="noopener"') == 2
    normal = (await client.get("/")).text
    assert 'target="_blank"' not in normal.split('<footer class="foot">', 1)[1]


async def test_the_operator_names_the_sites_that_may_frame_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"embed_origins": "https://www.ml-bondy.fr https://*.ville-pantin.fr"}
    )
    response = await client.get("/", params={"embed": "1"})
    assert (
        _directive(response.headers["content-security-policy"], "frame-ancestors")
        == "https://www.ml-bondy.fr https://*.ville-pantin.fr"
    )


@pytest.mark.parametrize(
    "origin", ["null", "javascript:alert(1)", "https://a.fr/path", "https://a.fr' ; x"]
)
async def test_a_page_origin_that_is_not_one_gets_no_messages(
    origin: str, client: httpx.AsyncClient
) -> None:
    response = await client.get("/", params={"embed": "1", "origin": origin})
    assert response.status_code == 200
    assert "embed_parent" not in _config(response.text)
