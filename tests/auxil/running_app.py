"""The service started (its lifespan) with a client speaking to it in process, over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def running(
    app: FastAPI, *, client: tuple[str, int] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` running until the block ends, and a client of it (from ``client``'s address)."""
    transport = (
        httpx.ASGITransport(app=app)
        if client is None
        else httpx.ASGITransport(app=app, client=client)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        yield http
