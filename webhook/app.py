"""The FastAPI application: built by a function so that tests can pass their own settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.conversations import ConversationService
from bot.flow_registry import FlowRegistry
from bot.settings import Settings
from bot.storage.db import create_engine, create_session_factory
from webhook import privacy, web
from webhook.api import chat, orient


def create_app(settings: Settings) -> FastAPI:
    """The whole HTTP service for these settings (the database must be migrated already)."""
    engine = create_engine(settings.database_url)

    session_factory = create_session_factory(engine)
    conversations = ConversationService(
        session_factory, FlowRegistry(), context={"privacy_url": settings.privacy_url}
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await conversations.prepare()
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
    app.state.session_factory = session_factory
    app.state.conversations = conversations
    app.include_router(orient.router)
    app.include_router(chat.router)
    app.include_router(web.router)
    app.include_router(privacy.router)
    web.mount_static(app)
    return app
