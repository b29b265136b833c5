"""The hot path's database access: plain SQL on the drivers themselves (sqlite3, asyncpg).

Every conversation step goes through here. Through the ORM a statement cost about 1 ms of CPU
(statement building, cache keys, greenlet and thread hops); on the drivers it costs a tenth of
that, which is what lets a durably stored step cost less CPU than an in-memory bot (see the
README's benchmark). The rest of the code base (migrations, retention, command line) keeps the
SQLAlchemy models, which stay the one description of the schema.

SQL is written once, with ``:name`` parameters and the subset both databases understand.
Values are adapted here: aware datetimes (stored by SQLAlchemy's format on SQLite), dicts and
lists as JSON text.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

from bot.storage.db import sqlite_pragmas

T = TypeVar("T")
Params = Mapping[str, Any]
Row = dict[str, Any]
_NAME = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# SQLAlchemy's storage format for DateTime on SQLite (naive UTC, sortable as text).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


class DuplicateKey(Exception):
    """An insert hit a unique constraint (another worker wrote the same row first)."""


def as_datetime(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime, whichever database it came from."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_json(value: Any) -> Any:
    """A stored JSON value as Python data."""
    return json.loads(value) if isinstance(value, str | bytes) else value


class Transaction(ABC):
    """Statements run inside one database transaction."""

    dialect: str

    def timestamp(self, name: str) -> str:
        """A time parameter where PostgreSQL cannot tell its type from the column (CASE)."""
        return f"CAST(:{name} AS TIMESTAMPTZ)" if self.dialect == "postgresql" else f":{name}"

    @abstractmethod
    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        """Rows of a query, as dicts keyed by column name."""

    @abstractmethod
    async def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement; the number of rows it changed."""

    @abstractmethod
    async def write(self, sql: str, params: Params | None = None) -> None:
        """Run a statement whose result is not needed (it may wait for the next one)."""

    @abstractmethod
    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        """Run a statement once per parameter set (it may wait for the next one)."""

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    async def lock_chat(self, key: int) -> None:
        """Serialise transactions about one chat across processes (until this one ends)."""


class RawDatabase(ABC):
    """Transactions on one database, for the whole process."""

    dialect: str

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """``async with db.transaction() as tx``: commit on success, roll back on error."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connections."""


def open_raw_database(url: str) -> RawDatabase:
    """The driver-level database for a SQLAlchemy URL (sqlite+aiosqlite or postgresql)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SqliteDatabase(parsed.database or ":memory:")
    return PostgresDatabase(parsed.set(drivername="postgresql").render_as_string(False))


# --- SQLite: one connection on one thread (SQLite has one writer anyway) -------------------


@cache
def _qmark(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "?"

    return _NAME.sub(replace, sql), tuple(names)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).strftime(_SQLITE_TIME)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _sqlite_args(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    text, names = _qmark(sql)
    given = params or {}
    return text, [_sqlite_value(given[name]) for name in names]


class SqliteTransaction(Transaction):
    """Statements whose result nobody waits for go with the next one: one thread hop for all.

    The ``BEGIN`` itself waits for the first statement, and the last writes for ``COMMIT``.
    """

    dialect = "sqlite"

    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database
        self.pending: list[tuple[str, Any, bool]] = [("BEGIN IMMEDIATE", [], False)]
        self.begun = False

    async def _send(self, sql: str, values: list[Any], mode: str) -> Any:
        pending, self.pending = self.pending, []
        self.begun = True
        return await self.database.call(self.database.run_sync, pending, sql, values, mode)

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        rows: list[Row] = await self._send(*_sqlite_args(sql, params), "fetch")
        return rows

    async def execute(self, sql: str, params: Params | None = None) -> int:
        count: int = await self._send(*_sqlite_args(sql, params), "count")
        return count

    async def write(self, sql: str, params: Params | None = None) -> None:
        self.pending.append((*_sqlite_args(sql, params), False))

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            text, names = _qmark(sql)
            values = [[_sqlite_value(row[name]) for name in names] for row in rows]
            self.pending.append((text, values, True))

    async def commit(self) -> None:
        await self._send("COMMIT", [], "none")

    async def rollback(self) -> None:
        self.pending = []
        if self.begun:
            await self.database.call(self.database.rollback_sync)

    async def lock_chat(self, key: int) -> None:
        # The transaction holds SQLite's only write lock already (BEGIN IMMEDIATE).
        return None


class SqliteDatabase(RawDatabase):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._lock = asyncio.Lock()
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            sqlite_pragmas(connection, None)
            connection.row_factory = sqlite3.Row
            self._connection = connection
        return self._connection

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a function on the connection's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, function, *args)

    def run_sync(
        self, pending: list[tuple[str, Any, bool]], sql: str, values: list[Any], mode: str
    ) -> Any:
        """Run the deferred statements, then one whose result is wanted."""
        connection = self._connect()
        try:
            for text, arguments, many in pending:
                if many:
                    connection.executemany(text, arguments)
                else:
                    connection.execute(text, arguments)
            cursor = connection.execute(sql, values)
        except sqlite3.IntegrityError as error:
            raise DuplicateKey(str(error)) from error
        if mode == "fetch":
            return [dict(row) for row in cursor.fetchall()]
        return cursor.rowcount if mode == "count" else None

    def rollback_sync(self) -> None:
        connection = self._connect()
        if connection.in_transaction:
            connection.execute("ROLLBACK")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._lock:
            tx = SqliteTransaction(self)
            try:
                yield tx
            except BaseException:
                await asyncio.shield(tx.rollback())
                raise
            try:
                await asyncio.shield(tx.commit())
            except BaseException:
                await asyncio.shield(tx.rollback())
                raise

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                await self.call(self._connection.close)
                self._connection = None
        self._thread.shutdown(wait=True)


# --- PostgreSQL: a pool of asyncpg connections ----------------------------------------------


@cache
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAME.sub(replace, sql), tuple(names)


def _postgres_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _postgres_args(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    text, names = _numbered(sql)
    given = params or {}
    return text, [_postgres_value(given[name]) for name in names]


class PostgresTransaction(Transaction):
    dialect = "postgresql"

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        text, values = _postgres_args(sql, params)
        try:
            return [dict(row) for row in await self.connection.fetch(text, *values)]
        except asyncpg.UniqueViolationError as error:
            raise DuplicateKey(str(error)) from error

    async def execute(self, sql: str, params: Params | None = None) -> int:
        text, values = _postgres_args(sql, params)
        try:
            status = await self.connection.execute(text, *values)
        except asyncpg.UniqueViolationError as error:
            raise DuplicateKey(str(error)) from error
        # asyncpg answers e.g. "UPDATE 3" or "INSERT 0 1": the count is last.
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def write(self, sql: str, params: Params | None = None) -> None:
        await self.execute(sql, params)

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            text, names = _numbered(sql)
            values = [[_postgres_value(row[name]) for name in names] for row in rows]
            await self.connection.executemany(text, values)

    async def lock_chat(self, key: int) -> None:
        await self.connection.execute("SELECT pg_advisory_xact_lock($1)", key)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query on release (a round trip per transaction).

    Nothing here leaves session state behind: every statement runs in a transaction that
    ends (advisory locks included, being transaction-level), and nothing sets, LISTENs or
    declares cursors.
    """


class PostgresDatabase(RawDatabase):
    dialect = "postgresql"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self.dsn, min_size=1, max_size=10, reset=_keep_session
                    )
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        pool = await self._get_pool()
        async with pool.acquire() as connection, connection.transaction():
            yield PostgresTransaction(connection)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
