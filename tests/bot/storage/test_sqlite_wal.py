"""SQLite's write-ahead log stays small while steps keep being written, and after a long reader."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bot.batches import Batch, Batching, in_batches
from bot.storage import sqlite_pragmas, sqlite_wal
from bot.storage.database import Transaction
from bot.storage.sqlite_driver import SqliteDatabase
from tests.auxil.clock import Ticks

EVERY = 10  # commits between two checkpoint rounds
ROUNDS = 60
RESET_PAGES = 40
FRAME = 4096 + 24  # a page and its frame header in the log
PAGES_PER_STEP = 3  # a row of 3,000 bytes: its own leaf page, the table's root, the header
# What the log may reach: the reset threshold, a round's steps and the one landing meanwhile.
BOUND = (RESET_PAGES + (EVERY + 1) * PAGES_PER_STEP) * FRAME * 3 // 2
SIZE_LIMIT = 16 * FRAME  # journal_size_limit, 64 MB in production


@pytest.fixture
async def database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SqliteDatabase]:
    monkeypatch.setattr(sqlite_pragmas, "JOURNAL_SIZE_LIMIT", SIZE_LIMIT)
    database = SqliteDatabase(
        str(tmp_path / "wal.db"), checkpoint_every=EVERY, wal_reset_pages=RESET_PAGES
    )
    async with database.transaction() as tx:
        await tx.write("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    yield database
    await database.close()


def log_size(database: SqliteDatabase) -> int:
    log = Path(database.path + "-wal")
    return log.stat().st_size if log.exists() else 0


async def write_a_step(database: SqliteDatabase) -> None:
    async with database.transaction() as tx:
        await tx.write("INSERT INTO note (body) VALUES (:body)", {"body": "x" * 3000})


class StepsLandDuringCheckpoints(sqlite3.Connection):
    """The checkpoints' connection, under steady traffic: a step lands during each PASSIVE pass.

    SQLite starts the log over when a commit begins with all of it copied; a step landing
    while it copies prevents that, at every round under load. Here on purpose: the step is
    committed beside a reader whose snapshot keeps it from being copied, until it is copied.
    """

    landed = 0

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if "PASSIVE" not in sql:
            return super().execute(sql, parameters)
        StepsLandDuringCheckpoints.landed += 1
        path = super().execute("PRAGMA database_list").fetchone()[2]
        with (
            closing(sqlite3.connect(path, isolation_level=None)) as reader,
            closing(sqlite3.connect(path, timeout=5, isolation_level=None)) as writer,
        ):
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM note").fetchall()
            writer.execute("PRAGMA wal_autocheckpoint=0")  # as our own steps' connection
            writer.execute("INSERT INTO note (body) VALUES (?)", ("y" * 3000,))
            cursor = super().execute(sql, parameters)
            reader.execute("COMMIT")
        return cursor


async def test_the_log_stays_bounded_while_steps_land_during_each_checkpoint(
    database: SqliteDatabase,
) -> None:
    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(
            database.path, check_same_thread=False, factory=StepsLandDuringCheckpoints
        )
        sqlite_pragmas.sqlite_pragmas(connection)
        return connection

    database.checkpoints.connect = connect
    StepsLandDuringCheckpoints.landed = 0
    largest = 0
    for _ in range(ROUNDS * EVERY):
        await write_a_step(database)
        await database.checkpoints.wait()
        largest = max(largest, log_size(database))
    # Some 2,000 pages were written: without a restart the log would hold them all.
    assert largest < BOUND, f"the log reached {largest // FRAME} pages"
    async with database.transaction() as tx:
        [row] = await tx.fetch("SELECT count(*) AS n FROM note")
    # Every step, and the one landed during each PASSIVE copy.
    assert row["n"] == ROUNDS * EVERY + StepsLandDuringCheckpoints.landed


def log_pages(database: SqliteDatabase) -> int:
    """The pages the log holds now (a checkpoint that copies nothing new reports them)."""
    connection = sqlite3.connect(database.path)
    try:
        pages: int = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        return pages
    finally:
        connection.close()


async def test_the_log_starts_over_and_shrinks_once_a_long_reader_lets_go(
    database: SqliteDatabase,
) -> None:
    database.checkpoints.reset_wait_ms = 20  # how long our writers wait for the reader
    reader = sqlite3.connect(database.path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM note").fetchall()  # holds its snapshot
        for _ in range(4 * EVERY):
            await write_a_step(database)
            await database.checkpoints.wait()
        # Nothing written after the reader's snapshot could go: the log grew past its limit.
        assert log_size(database) > 2 * SIZE_LIMIT
        reader.execute("COMMIT")
    finally:
        reader.close()
    for _ in range(EVERY):
        await write_a_step(database)
    await database.checkpoints.wait()
    await write_a_step(database)
    assert log_pages(database) <= PAGES_PER_STEP  # the step wrote the log from its start
    assert log_size(database) <= SIZE_LIMIT  # and cut the file back


class Copies(StepsLandDuringCheckpoints):
    """As above (the log never starts over by itself), noting each checkpoint's mode; a
    PASSIVE copy "takes" ``passive_s`` on the test's clock (another process writing fast makes
    copies slow)."""

    modes: list[str] = []
    clock: Ticks | None = None
    passive_s = 0.0

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if "wal_checkpoint" in sql:
            mode = sql.split("(")[1].rstrip(")")
            Copies.modes.append(mode)
            if mode == "PASSIVE" and Copies.clock is not None:
                Copies.clock.now += Copies.passive_s
        return super().execute(sql, parameters)


@pytest.fixture
def copies(database: SqliteDatabase) -> type[Copies]:
    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(database.path, check_same_thread=False, factory=Copies)
        sqlite_pragmas.sqlite_pragmas(connection)
        return connection

    clock = Ticks()
    clock.now = time.monotonic()  # where the real clock was when the database was made
    Copies.modes, Copies.clock, Copies.passive_s = [], clock, 0.0
    database.checkpoints.connect = connect
    database.checkpoints.clock = clock
    return Copies


async def fill_the_log(database: SqliteDatabase) -> None:
    """Past the reset threshold, one round at a time."""
    for _ in range(2 * EVERY):
        await write_a_step(database)
        await database.checkpoints.wait()


async def test_the_log_is_not_restarted_while_another_process_writes_fast(
    database: SqliteDatabase, copies: type[Copies]
) -> None:
    copies.passive_s = 0.050  # every copy slow: much came in meanwhile
    await fill_the_log(database)
    assert "PASSIVE" in copies.modes
    assert "RESTART" not in copies.modes  # it would hold every writer while it copied
    assert log_pages(database) > RESET_PAGES

    copies.passive_s = 0.001  # the other process is done
    await fill_the_log(database)
    assert "RESTART" in copies.modes
    assert log_size(database) < BOUND


async def test_a_batch_job_restarts_the_log_between_its_batches_only(
    database: SqliteDatabase, copies: type[Copies]
) -> None:
    database.checkpoints.batch_job = True  # as ``aiguillage purge`` opens it
    await fill_the_log(database)
    # Its own rounds, while it writes, only copy: a restart would hold the service's writers
    # while it copied what the job wrote meanwhile.
    assert copies.modes
    assert set(copies.modes) == {"PASSIVE"}
    assert log_size(database) > RESET_PAGES * FRAME

    copies.modes.clear()
    await database.between_batches()
    assert copies.modes == ["PASSIVE", "RESTART"]  # all copied first, then started over
    await write_a_step(database)
    assert log_pages(database) <= PAGES_PER_STEP  # the next step wrote the log from its start
    assert log_size(database) <= SIZE_LIMIT


async def test_the_files_are_on_disk_before_a_restart_holds_every_writer(
    database: SqliteDatabase, copies: type[Copies], monkeypatch: pytest.MonkeyPatch
) -> None:
    # RESTART syncs the database file with every writer held: what earlier copies left in
    # memory is written out before, holding nothing, so that its sync is short.
    written_out: list[tuple[str, bool]] = []

    def fdatasync(descriptor: int) -> None:
        name = os.readlink(f"/proc/self/fd/{descriptor}")
        written_out.append((Path(name).name, database._lock.locked()))
        copies.modes.append("write out")

    monkeypatch.setattr(sqlite_wal.os, "fdatasync", fdatasync)
    await fill_the_log(database)
    restart = copies.modes.index("RESTART")
    assert copies.modes[restart - 2 : restart] == ["write out", "write out"]
    assert written_out[:2] == [("wal.db", False), ("wal.db-wal", False)]


async def test_a_checkpoint_that_fails_never_stops_a_batch_job(
    database: SqliteDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    database.checkpoints.batch_job = True
    await write_a_step(database)
    await database.checkpoints.wait()

    def disk_error(mode: str) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    database.checkpoints._checkpoint = disk_error  # type: ignore[method-assign]
    await database.between_batches()  # the purge goes on with its next batch
    await write_a_step(database)
    failed = [r for r in caplog.records if r.getMessage() == "sqlite checkpoint failed"]
    assert [getattr(r, "error", None) for r in failed] == ["OperationalError"]


async def test_the_service_leaves_restarting_the_log_to_its_own_rounds(
    database: SqliteDatabase, copies: type[Copies]
) -> None:
    for _ in range(EVERY - 1):  # no round due yet
        await write_a_step(database)
    await database.between_batches()  # its own purge, on a schedule, calls it too
    assert copies.modes == []


async def test_the_log_of_a_long_batch_job_stays_bounded(database: SqliteDatabase) -> None:
    database.checkpoints.batch_job = True
    largest = 0

    async def a_batch(tx: Transaction, size: int) -> Batch:
        for _ in range(PAGES_PER_STEP * 4):
            await tx.write("INSERT INTO note (body) VALUES (:body)", {"body": "x" * 3000})
        return Batch(changed=1, more=True)

    stop = asyncio.Event()
    batches = 0

    async def measure() -> None:
        nonlocal largest, batches
        largest = max(largest, log_size(database))
        batches += 1
        if batches == ROUNDS * 2:
            stop.set()

    await in_batches(database, a_batch, Batching(between=measure, stop=stop))
    # About 1,500 pages were written: the log held a threshold and a batch at most.
    assert largest < BOUND, f"the log reached {largest // FRAME} pages"


async def test_a_round_comes_after_a_second_even_with_few_commits(
    database: SqliteDatabase, copies: type[Copies]
) -> None:
    await write_a_step(database)
    await database.checkpoints.wait()
    assert copies.modes == []  # one commit of the ten a round waits for
    assert copies.clock is not None
    copies.clock.now += 1.0
    await write_a_step(database)
    await database.checkpoints.wait()
    assert copies.modes == ["PASSIVE"]
