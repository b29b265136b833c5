"""SQLite: one connection, on the event loop (see ``SqliteDatabase``)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from bot.storage.database import Database, DuplicateKey, Params, Row, Transaction
from bot.storage.sqlite_params import sqlite_args as _sqlite_args
from bot.storage.sqlite_pragmas import sqlite_pragmas
from bot.storage.sqlite_reading import ReaderPool, SqliteReadTransaction
from bot.storage.sqlite_wal import RESET_PAGES, WalCheckpointer

# The longest sleep between two tries of a busy BEGIN IMMEDIATE (another process writes). Short:
# a long job of another process (the purge) leaves the lock free for a few milliseconds between
# its batches, and a waiter asleep through every gap would wait for the whole job (with 50 ms,
# a chat step waited 357 ms during a purge of 10k conversations).
BUSY_RETRY_MAX_S = 0.005


class SqliteTransaction(Transaction):
    """Statements run on the event loop: each takes microseconds (see SqliteDatabase).

    ``write`` (and ``insert_rows``) wait for the next statement or the commit, as on
    PostgreSQL, so that an error in one surfaces at the same place on both databases.
    """

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self._pending: list[tuple[str, list[Any]]] = []

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        for text, values in pending:
            try:
                self.connection.execute(text, values)
            except sqlite3.IntegrityError as error:
                raise DuplicateKey(str(error)) from error

    def _run(self, sql: str, params: Params | None) -> sqlite3.Cursor:
        self._flush()
        text, values = _sqlite_args(sql, params)
        try:
            return self.connection.execute(text, values)
        except sqlite3.IntegrityError as error:
            raise DuplicateKey(str(error)) from error

    async def fetch(
        self, sql: str, params: Params | None = None, *, independent: bool = False
    ) -> list[Row]:
        return [dict(row) for row in self._run(sql, params).fetchall()]

    async def fetch_tuples(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._run(sql, params).fetchall()]

    async def execute(self, sql: str, params: Params | None = None) -> int:
        return self._run(sql, params).rowcount

    async def write(self, sql: str, params: Params | None = None) -> None:
        text, values = _sqlite_args(sql, params)
        self._pending.append((text, values))

    async def lock_chat(self, key: int) -> None:
        # The transaction holds SQLite's only write lock already (BEGIN IMMEDIATE).
        return None

    def end(self) -> None:
        """Before COMMIT: what waits is written (and may fail)."""
        self._flush()


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SqliteDatabase(Database):
    """One connection used on the event loop itself; SQLite has one writer anyway.

    A statement of a step takes microseconds (WAL, synchronous=NORMAL: a commit is a write to
    the log, no fsync), less than handing it to a thread and back, which once cost a fifth of
    the CPU of an update. What could block is kept off the loop: the connection never waits for
    a lock (busy_timeout 0; a busy BEGIN is retried after an asyncio sleep, while another
    process writes), and the log's checkpoints, which fsync, run on a thread with their own
    connection instead of inside a commit (bot/storage/sqlite_wal.py keeps the log bounded).
    """

    dialect = "sqlite"
    busy_wait_s = 30.0

    def __init__(
        self,
        path: str,
        *,
        checkpoint_every: int = 500,
        wal_reset_pages: int = RESET_PAGES,
        batch_job: bool = False,
    ) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._connection: sqlite3.Connection | None = None
        # A batch job of its own process restarts the log only between its batches (sqlite_wal).
        self.checkpoints = WalCheckpointer(
            self._connect_sync,
            self._lock,
            every=checkpoint_every,
            reset_pages=wal_reset_pages,
            batch_job=batch_job,
        )
        # Counsellors' pages read on threads, off the loop (sqlite_reading.py); a database in
        # memory exists on the one connection only.
        self._readers = ReaderPool(path) if path != ":memory:" else None

    def _connect_sync(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        sqlite_pragmas(connection)
        return connection

    async def _connection_ready(self) -> sqlite3.Connection:
        if self._connection is None:
            # Opening may wait for another process switching the file to WAL: on a thread.
            connection = await asyncio.to_thread(self._connect_sync)
            connection.execute("PRAGMA busy_timeout=0")
            connection.execute("PRAGMA wal_autocheckpoint=0")
            connection.row_factory = sqlite3.Row
            self._connection = connection
        return self._connection

    async def _begin(self, connection: sqlite3.Connection) -> None:
        delay, waited = 0.001, 0.0
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or waited >= self.busy_wait_s:
                    raise
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, BUSY_RETRY_MAX_S)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._lock:
            connection = await self._connection_ready()
            await self._begin(connection)
            try:
                tx = SqliteTransaction(connection)
                yield tx
                tx.end()
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        self.checkpoints.committed()

    async def between_batches(self) -> None:
        await self.checkpoints.between_batches()

    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        if self._readers is not None:
            return self._readers.transaction()
        return self._reading_in_memory()

    @asynccontextmanager
    async def _reading_in_memory(self) -> AsyncIterator[Transaction]:
        """On the one connection, on the loop (tests and trials: nothing else to serve)."""
        async with self._lock:
            connection = await self._connection_ready()
            connection.execute("BEGIN")
            connection.execute("PRAGMA query_only=ON")
            try:
                yield SqliteReadTransaction(connection, off_loop=False)
            finally:
                connection.execute("PRAGMA query_only=OFF")
                if connection.in_transaction:
                    connection.execute("ROLLBACK")

    async def close(self) -> None:
        if self._readers is not None:
            self._readers.close()
        # First the checkpoint in flight, which may need the writers' lock to finish.
        await self.checkpoints.close()
        async with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
