"""A stranger's huge body is refused before anything reads it into memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from webhook.body_limit import MAX_BODY_BYTES

HUGE = b'{"text": "' + b"a" * (MAX_BODY_BYTES + 1) + b'"}'


async def test_a_declared_huge_body_gets_413_naming_the_body(client: httpx.AsyncClient) -> None:
    for path in ("/api/chat", "/api/orient", "/admin/login"):
        response = await client.post(
            path, content=HUGE, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413, path
        assert response.json()["detail"].startswith("body: larger than")


async def test_a_streamed_huge_body_gets_413_too(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b"a" * 1024

    response = await client.post(
        "/api/orient", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_a_streamed_small_body_reaches_the_route_whole(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"age": 19, '
        yield b'"postal_code": "93500"}'

    response = await client.post(
        "/api/orient", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["sites"]
