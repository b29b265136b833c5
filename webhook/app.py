"""The FastAPI application: built by a function so that tests can pass their own settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.settings import Settings
from bot.storage.db import create_engine, create_session_factory
from webhook.api import orient


def create_app(settings: Settings) -> FastAPI:
    """The whole HTTP service for these settings (the database must be migrated already)."""
    engine = create_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(
        title="Aiguillage",
        description="Orientation assistant of PôleS: pre-screening rules, web chat and leads.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    app.include_router(orient.router)
    return app
