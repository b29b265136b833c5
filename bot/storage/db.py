"""An SQLAlchemy AsyncSession engine: no longer the product's way to the database.

Every statement of the product runs on bot/storage/database.py's ``Database``. What is left
here serves the tests that still read through a session (tests/webhook/test_telegram_e2e.py,
tests/bot/conversations/test_service.py, and test_channel.py through
``app.state.session_factory``); this module goes once they read through the ``Database``.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.storage.sqlite_pragmas import sqlite_pragmas


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine for a SQLite or PostgreSQL URL."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, connect_args={"timeout": 30})
        sync_engine: Engine = engine.sync_engine
        event.listen(sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
