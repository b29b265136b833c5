"""``Database.reading()``: a counsellor's page reads one state of the data, writes nothing, and
on SQLite never holds the event loop while it reads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.database import Database, WriteInReading, open_database
from bot.storage.sqlite_driver import SqliteDatabase
from bot.storage.sqlite_reading import SqliteReadTransaction


async def _notes(database: Database) -> None:
    async with database.transaction() as tx:
        await tx.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        await tx.execute("INSERT INTO note (id, body) VALUES (1, 'first')")


async def _add_note(database: Database, note_id: int) -> None:
    async with database.transaction() as tx:
        await tx.execute(
            "INSERT INTO note (id, body) VALUES (:id, :body)", {"id": note_id, "body": "later"}
        )


async def _count(database: Database) -> int:
    async with database.reading() as tx:
        rows = await tx.fetch("SELECT count(*) AS n FROM note")
    return int(rows[0]["n"])


async def test_a_reading_block_reads_what_is_there(database: Database) -> None:
    await _notes(database)
    async with database.reading() as tx:
        rows = await tx.fetch("SELECT id, body FROM note WHERE id = :id", {"id": 1})
        tuples = await tx.fetch_tuples("SELECT body FROM note")
    assert rows == [{"id": 1, "body": "first"}]
    assert tuples == [("first",)]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO note (id, body) VALUES (2, 'sneaked in')",
        "UPDATE note SET body = 'changed'",
        "DELETE FROM note",
    ],
)
async def test_a_write_in_a_reading_block_is_refused_and_changes_nothing(
    database: Database, statement: str
) -> None:
    await _notes(database)
    with pytest.raises(WriteInReading):
        async with database.reading() as tx:
            await tx.execute(statement)
    with pytest.raises(WriteInReading):
        async with database.reading() as tx:
            await tx.write(statement)
    async with database.reading() as tx:
        assert await tx.fetch("SELECT id, body FROM note") == [{"id": 1, "body": "first"}]
    # The steps' transactions write as before.
    await _add_note(database, 2)
    assert await _count(database) == 2


async def test_a_reading_block_sees_one_state_from_its_first_read(database: Database) -> None:
    await _notes(database)
    async with database.reading() as tx:
        before = await tx.fetch("SELECT count(*) AS n FROM note")
        await _add_note(database, 2)  # committed meanwhile, by a step
        after = await tx.fetch("SELECT count(*) AS n FROM note")
    assert before == after == [{"n": 1}]
    assert await _count(database) == 2


async def test_a_failed_reading_block_leaves_the_database_readable(database: Database) -> None:
    await _notes(database)
    for _ in range(3):  # more than the readers there are: none is lost
        with pytest.raises(Exception, match="no_such_table"):
            async with database.reading() as tx:
                await tx.fetch("SELECT * FROM no_such_table")
    assert await _count(database) == 1


# --- SQLite: off the event loop ----------------------------------------------------------


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'reading.db'}")
    assert isinstance(database, SqliteDatabase)
    await _notes(database)
    yield database
    await database.close()


def _reader(tx: object) -> SqliteReadTransaction:
    assert isinstance(tx, SqliteReadTransaction)
    assert tx.off_loop  # a file: its reads go to a thread
    return tx


async def test_a_long_read_does_not_hold_the_steps_back(sqlite_file: SqliteDatabase) -> None:
    started, release = threading.Event(), threading.Event()

    def slow() -> int:
        # A query that takes as long as the test wants, on the reader's thread.
        started.set()
        release.wait(30)
        return 1

    async def long_page() -> list[dict[str, object]]:
        async with sqlite_file.reading() as tx:
            _reader(tx).connection.create_function("slow", 0, slow)
            return await tx.fetch("SELECT slow() AS done, count(*) AS n FROM note")

    page = asyncio.create_task(long_page())
    assert await asyncio.to_thread(started.wait, 30)
    # While the page's query runs, a step writes and another page reads, on the same loop.
    await _add_note(sqlite_file, 2)
    async with sqlite_file.transaction() as tx:
        assert await tx.fetch("SELECT count(*) AS n FROM note") == [{"n": 2}]
    assert await _count(sqlite_file) == 2
    assert not page.done()
    release.set()
    # Its snapshot began before the step's write.
    assert await asyncio.wait_for(page, 30) == [{"done": 1, "n": 1}]


async def test_a_page_closed_mid_query_frees_its_reader(sqlite_file: SqliteDatabase) -> None:
    started = threading.Event()

    async def endless_page() -> None:
        async with sqlite_file.reading() as tx:
            _reader(tx).connection.create_function("started", 0, lambda: started.set())
            # Counts for ever: only the interruption can end it.
            await tx.fetch(
                "WITH RECURSIVE c(x) AS (SELECT started() UNION ALL SELECT x + 1 FROM c)"
                " SELECT count(*) FROM c"
            )

    page = asyncio.create_task(endless_page())
    assert await asyncio.to_thread(started.wait, 30)
    page.cancel()  # the browser went away
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(page, 30)
    for _ in range(3):  # every reader is free again
        assert await _count(sqlite_file) == 1


async def test_a_third_page_waits_for_a_reader_without_blocking(
    sqlite_file: SqliteDatabase,
) -> None:
    release, both_reading = asyncio.Event(), asyncio.Event()
    holding = 0

    async def hold() -> None:
        nonlocal holding
        async with sqlite_file.reading() as tx:
            await tx.fetch("SELECT 1 FROM note")
            holding += 1
            if holding == 2:
                both_reading.set()
            await release.wait()

    holders = [asyncio.create_task(hold()) for _ in range(2)]
    await asyncio.wait_for(both_reading.wait(), 30)
    third = asyncio.create_task(_count(sqlite_file))
    await _add_note(sqlite_file, 2)  # the steps go on meanwhile
    for _ in range(20):
        await asyncio.sleep(0)
    assert not third.done()
    release.set()
    assert await asyncio.wait_for(third, 30) == 2
    await asyncio.gather(*holders)


async def test_in_memory_a_reading_block_reads_on_the_one_connection() -> None:
    database = open_database("sqlite+aiosqlite://")
    try:
        await _notes(database)
        async with database.reading() as tx:
            assert isinstance(tx, SqliteReadTransaction)
            assert not tx.off_loop
            assert await tx.fetch("SELECT body FROM note") == [{"body": "first"}]
        with pytest.raises(WriteInReading):
            async with database.reading() as tx:
                await tx.execute("DELETE FROM note")
        await _add_note(database, 2)  # the steps' connection writes again afterwards
        assert await _count(database) == 2
    finally:
        await database.close()
