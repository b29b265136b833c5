"""`aiguillage serve` freezes what its start made, so that full collections stay short."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from webhook.long_lived import freeze_after_start


async def test_what_the_start_made_is_left_out_of_later_collections() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("started")
        yield
        events.append("stopped")

    app = freeze_after_start(FastAPI(lifespan=lifespan))
    try:
        async with app.router.lifespan_context(app):
            assert events == ["started"]  # the application's own start ran first
            assert gc.get_freeze_count() > 0
        assert events == ["started", "stopped"]
    finally:
        gc.unfreeze()  # the rest of the tests collect as usual
