"""HSTS on every response when the public address is https, and never over plain http."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.settings import Settings
from tests.auxil.running_app import running
from webhook.app import create_app

HSTS = "max-age=31536000; includeSubDomains"


async def responses(settings: Settings) -> AsyncIterator[httpx.Response]:
    async with running(create_app(settings, background=False)) as client:
        for path in ("/", "/docs", "/admin/login", "/no-such-page", "/openapi.json"):
            yield await client.get(path)
        yield await client.post("/api/orient", content=b"not json")


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [("https://aiguillage.poles.example", HSTS), ("http://localhost:8000", None), (None, None)],
)
async def test_hsts_is_sent_exactly_when_the_public_address_is_https(
    settings: Settings, public_url: str | None, expected: str | None
) -> None:
    configured = settings.model_copy(update={"public_url": public_url})
    seen = [response async for response in responses(configured)]
    assert len(seen) == 6
    for response in seen:
        assert response.headers.get("strict-transport-security") == expected, response.url
