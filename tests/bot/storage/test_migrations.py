"""The migration chain builds the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.migrate import current_heads
from bot.storage.models import Base


async def test_migrations_create_every_table_of_the_models(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


async def test_the_models_need_no_migration_that_is_not_written(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
        )
    await engine.dispose()
    assert differences == []


def test_the_chain_has_one_head() -> None:
    assert len(current_heads()) == 1
