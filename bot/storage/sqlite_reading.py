"""SQLite's reading transactions: long queries on threads, off the event loop.

The steps' connection runs on the loop (sqlite_driver.py): its statements take microseconds.
A counsellor's page may read for seconds; on that connection every chat and webhook would
wait as long. So ``SqliteDatabase.reading()`` runs its statements on a thread, each on a
read-only connection of a small pool: sqlite3 lets the GIL go while SQLite works, and with
WAL a reader neither waits for the writer nor holds it back. Each connection serves one block
at a time; the block's BEGIN … COMMIT keeps one snapshot from its first statement.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from bot.storage.database import Params, Row, Transaction, WriteInReading
from bot.storage.sqlite_params import sqlite_args

_T = TypeVar("_T")
# Two pages read at once; a third waits for one of them (on the loop, without blocking it).
READERS = 2
# A reader waits for nobody in WAL mode, but for a moment while another connection opens the
# file or recovers its log: on its thread, which is free to wait.
READER_BUSY_MS = 5000


def _read_only_error(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY


def open_reader(path: str) -> sqlite3.Connection:
    """A connection that can only read the database file (on the thread that calls it)."""
    uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout={READER_BUSY_MS}")
    # mode=ro still lets a connection write temporary tables: refuse every write alike.
    connection.execute("PRAGMA query_only=ON")
    connection.row_factory = sqlite3.Row
    return connection


class SqliteReadTransaction(Transaction):
    """Statements of a reading block; on a thread when ``off_loop`` (see the module)."""

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection, *, off_loop: bool) -> None:
        self.connection = connection
        self.off_loop = off_loop
        # Statements gathered at once on one block would share its connection across threads.
        self._one_at_a_time = asyncio.Lock()

    async def _call(self, work: Callable[[], _T]) -> _T:
        async with self._one_at_a_time:
            if not self.off_loop:
                return _refusing_writes(work)
            return await run_off_loop(self.connection, lambda: _refusing_writes(work))

    def _cursor(self, sql: str, params: Params | None) -> sqlite3.Cursor:
        text, values = sqlite_args(sql, params)
        return self.connection.execute(text, values)

    async def fetch(
        self, sql: str, params: Params | None = None, *, independent: bool = False
    ) -> list[Row]:
        return await self._call(lambda: [dict(row) for row in self._cursor(sql, params)])

    async def fetch_tuples(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return await self._call(lambda: [tuple(row) for row in self._cursor(sql, params)])

    async def execute(self, sql: str, params: Params | None = None) -> int:
        return await self._call(lambda: self._cursor(sql, params).rowcount)

    async def write(self, sql: str, params: Params | None = None) -> None:
        # Refused at the call, not at the end of the block: the mistake is found where it is.
        raise WriteInReading(sql.split(None, 1)[0] if sql.strip() else sql)

    async def lock_chat(self, key: int) -> None:
        # Only writers need the chat to themselves; a reader sees a snapshot.
        return None


def _refusing_writes(work: Callable[[], _T]) -> _T:
    try:
        return work()
    except sqlite3.OperationalError as error:
        if _read_only_error(error):
            raise WriteInReading(str(error)) from error
        raise


async def run_off_loop(connection: sqlite3.Connection, work: Callable[[], _T]) -> _T:
    """``work`` on a thread; if the caller is cancelled (a browser gone), the query is
    interrupted and waited for, so that the connection is free before anything else uses it."""
    running = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        connection.interrupt()
        await asyncio.wait([running])
        if not running.cancelled():
            running.exception()  # interrupted: retrieved, so that asyncio does not log it
        raise


class ReaderPool:
    """Up to ``size`` read-only connections to one file, each lent to one block at a time."""

    def __init__(self, path: str, size: int = READERS) -> None:
        self.path = path
        self._idle: list[sqlite3.Connection] = []
        self._free = asyncio.Semaphore(size)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._free:
            connection = self._idle.pop() if self._idle else None
            if connection is None:
                connection = await asyncio.to_thread(open_reader, self.path)
            try:
                await run_off_loop(connection, lambda: connection.execute("BEGIN"))
                try:
                    yield SqliteReadTransaction(connection, off_loop=True)
                finally:
                    await _end(connection)
            finally:
                if connection.in_transaction:  # could not end: not lent again
                    await asyncio.to_thread(_close_quietly, connection)
                else:
                    self._idle.append(connection)

    def close(self) -> None:
        """Close the idle connections (a block still reading gives its own back afterwards)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


async def _end(connection: sqlite3.Connection) -> None:
    """End the block's transaction: ROLLBACK, as it wrote nothing (COMMIT would do the same).

    Waited for even if the caller is cancelled: the connection must be idle before it is lent.
    """
    if not connection.in_transaction:  # an interrupted query may have ended it already
        return
    ending = asyncio.ensure_future(asyncio.to_thread(connection.execute, "ROLLBACK"))
    try:
        await asyncio.shield(ending)
    except asyncio.CancelledError:
        await asyncio.wait([ending])
        raise


def _close_quietly(connection: sqlite3.Connection) -> None:
    with suppress(sqlite3.Error):
        connection.close()
