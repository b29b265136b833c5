"""The SQLite driver layer runs on the event loop: it must never block it, nor lose a write."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.database import DuplicateKey, open_database
from bot.storage.sqlite_driver import SqliteDatabase


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'raw.db'}")
    assert isinstance(database, SqliteDatabase)
    async with database.transaction() as tx:
        await tx.write("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    yield database
    await database.close()


async def bodies(database: SqliteDatabase) -> list[str]:
    async with database.transaction() as tx:
        return [row["body"] for row in await tx.fetch("SELECT body FROM note ORDER BY id")]


async def test_a_transaction_waits_for_another_writer_without_blocking_the_loop(
    database: SqliteDatabase,
) -> None:
    other = sqlite3.connect(database.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO note (body) VALUES ('from the command line')")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def write() -> None:
        async with database.transaction() as tx:
            await tx.write("INSERT INTO note (body) VALUES (:body)", {"body": "a step"})

    ticker = asyncio.create_task(tick())
    writer = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    assert not writer.done()
    assert ticks >= 10  # the loop went on serving other work meanwhile
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writer, 5)
    ticker.cancel()
    assert await bodies(database) == ["from the command line", "a step"]


async def test_a_writer_that_never_lets_go_gives_a_clear_error(database: SqliteDatabase) -> None:
    database.busy_wait_s = 0.1
    other = sqlite3.connect(database.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with database.transaction():
                pass
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await bodies(database) == []


async def test_an_error_rolls_the_whole_transaction_back(database: SqliteDatabase) -> None:
    async def twice() -> None:
        async with database.transaction() as tx:
            await tx.write("INSERT INTO note (id, body) VALUES (1, 'first')")
            await tx.write("INSERT INTO note (id, body) VALUES (1, 'same id')")

    with pytest.raises(DuplicateKey):
        await twice()
    async with database.transaction() as tx:
        await tx.write("INSERT INTO note (id, body) VALUES (1, 'again')")
    assert await bodies(database) == ["again"]


async def test_the_log_is_checkpointed_on_a_thread(database: SqliteDatabase) -> None:
    database.checkpoints.every = 3
    main_file = Path(database.path)
    before = os.path.getsize(main_file)  # noqa: ASYNC240 (a stat, in a test)
    for _ in range(3):
        async with database.transaction() as tx:
            await tx.write("INSERT INTO note (body) VALUES (:body)", {"body": "x" * 50_000})
    await database.checkpoints.wait()  # it may still run on its thread
    assert os.path.getsize(main_file) > before + 100_000  # noqa: ASYNC240  # the log's pages reached the file
    assert len(await bodies(database)) == 3
