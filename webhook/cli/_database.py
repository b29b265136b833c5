"""Opening the configured database from a command, migrated when it is the SQLite default."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.storage.db import create_engine, create_session_factory
from bot.storage.migrate import upgrade_embedded_database
from bot.storage.raw import RawDatabase, open_raw_database


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory for the command's lifetime."""
    await asyncio.to_thread(upgrade_embedded_database, settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_raw(settings: Settings) -> AsyncIterator[RawDatabase]:
    """The driver-level database conversations run on, for the command's lifetime."""
    await asyncio.to_thread(upgrade_embedded_database, settings.database_url)
    database = open_raw_database(settings.database_url)
    try:
        yield database
    finally:
        await database.close()
