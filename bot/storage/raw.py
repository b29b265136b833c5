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
import logging
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

import asyncpg

from bot.settings import sqlite_file
from bot.storage.sqlite_pragmas import sqlite_pragmas
from bot.storage.sqlite_wal import RESET_PAGES, WalCheckpointer

logger = logging.getLogger(__name__)
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
    async def fetch(
        self, sql: str, params: Params | None = None, *, independent: bool = False
    ) -> list[Row]:
        """Rows of a query, as dicts keyed by column name.

        ``independent``: the statement reads nothing that the writes still waiting (``write``,
        ``execute_many``) change, and writes to none of their tables; on PostgreSQL they may
        then travel inside it, as data-modifying ``WITH`` parts, instead of going first.
        """

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
    # Not SQLAlchemy's make_url: it would load SQLAlchemy into every command.
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        return SqliteDatabase(str(path) if path is not None else ":memory:")
    return PostgresDatabase(f"postgresql://{url.partition('://')[2]}")


# --- SQLite: one connection, on the event loop ------------------------------------------------


@cache
def _qmark(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "?"

    return _NAME.sub(replace, sql), tuple(names)


def _without_nul(text: str) -> str:
    """Text is stored without NUL characters, on both databases: PostgreSQL cannot store them,
    and nobody means to type one (a crafted form or message would otherwise fail its write)."""
    return text.replace("\x00", "") if "\x00" in text else text


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, str):
        return _without_nul(value)
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
    """Statements run at once, on the event loop: each takes microseconds (see SqliteDatabase)."""

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def _run(self, sql: str, params: Params | None) -> sqlite3.Cursor:
        text, values = _sqlite_args(sql, params)
        try:
            return self.connection.execute(text, values)
        except sqlite3.IntegrityError as error:
            raise DuplicateKey(str(error)) from error

    async def fetch(
        self, sql: str, params: Params | None = None, *, independent: bool = False
    ) -> list[Row]:
        return [dict(row) for row in self._run(sql, params).fetchall()]

    async def execute(self, sql: str, params: Params | None = None) -> int:
        return self._run(sql, params).rowcount

    async def write(self, sql: str, params: Params | None = None) -> None:
        self._run(sql, params)

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            text, names = _qmark(sql)
            values = [[_sqlite_value(row[name]) for name in names] for row in rows]
            try:
                self.connection.executemany(text, values)
            except sqlite3.IntegrityError as error:
                raise DuplicateKey(str(error)) from error

    async def lock_chat(self, key: int) -> None:
        # The transaction holds SQLite's only write lock already (BEGIN IMMEDIATE).
        return None


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SqliteDatabase(RawDatabase):
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
        self, path: str, *, checkpoint_every: int = 500, wal_reset_pages: int = RESET_PAGES
    ) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._connection: sqlite3.Connection | None = None
        self.checkpoints = WalCheckpointer(
            self._connect_sync, self._lock, every=checkpoint_every, reset_pages=wal_reset_pages
        )

    def _connect_sync(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        sqlite_pragmas(connection, None)
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
            delay = min(delay * 2, 0.05)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._lock:
            connection = await self._connection_ready()
            await self._begin(connection)
            try:
                yield SqliteTransaction(connection)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        self.checkpoints.committed()

    async def close(self) -> None:
        # First the checkpoint in flight, which may need the writers' lock to finish.
        await self.checkpoints.close()
        async with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


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


_VALUES = re.compile(r"^(.*?\bVALUES\s*)(\([^()]*\))(.*)$", re.DOTALL | re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\$(\d+)")


@cache
def _multi_row_parts(text: str) -> tuple[str, str | None, str]:
    """An INSERT … VALUES (…) split around its row, to repeat it; None if it is no such INSERT."""
    match = _VALUES.match(text)
    if match is None or not text.lstrip().upper().startswith("INSERT"):
        return text, None, ""
    return match.group(1), match.group(2), match.group(3)


@lru_cache(maxsize=1024)
def _renumbered(clause: str, offset: int) -> str:
    return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + offset}", clause)


def _postgres_value(value: Any) -> Any:
    if isinstance(value, str):
        return _without_nul(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _postgres_args(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    text, names = _numbered(sql)
    given = params or {}
    return text, [_postgres_value(given[name]) for name in names]


# Values a statement may carry written into its text (after _postgres_value).
_INLINABLE = (type(None), bool, int, str, datetime)


def _inlinable(values: list[Any]) -> bool:
    return all(isinstance(value, _INLINABLE) for value in values)


def _literal(value: Any) -> str:
    """A value written as SQL, for the simple protocol (which carries no parameters).

    Only for connections with ``standard_conforming_strings`` on (PostgreSQL's default since
    9.1, checked per connection), where a quote doubled is the only escape in a string.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        # No NUL in it (_postgres_value took them out), which would end the message early.
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def _inlined(text: str, values: list[Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: _literal(values[int(m.group(1)) - 1]), text)


@contextmanager
def _unique_violation_as_duplicate_key() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        raise DuplicateKey(str(error)) from error


class PostgresTransaction(Transaction):
    """As few round trips as the statements allow: about seven became four for a step.

    - BEGIN goes with the first statement that needs it, or with the chat's lock (``BEGIN;
      SELECT pg_advisory_xact_lock(…)`` in one message); a transaction that runs nothing sends
      nothing.
    - Writes whose result nobody reads (``write``, multi-row ``execute_many``) wait: they go
      with COMMIT, in one simple-protocol message (``UPDATE …; INSERT …; COMMIT``), inside an
      ``independent`` query as data-modifying ``WITH`` parts, or just before any other
      statement, which may read them. An error in one surfaces there, and rolls back all.
    """

    dialect = "postgresql"

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.begun = False
        self._pending: list[tuple[str, list[Any]]] = []  # numbered SQL and its values
        # The simple protocol needs values written in; safe with standard strings only.
        self._may_inline = connection.get_settings().standard_conforming_strings == "on"

    async def _begin(self) -> None:
        if self._pending:
            await self._send("")
        elif not self.begun:
            self.begun = True
            await self.connection.execute("BEGIN")

    async def _send(self, last: str) -> str:
        """The waiting writes (BEGIN first if need be), then ``last``, as one message."""
        statements = [] if self.begun else ["BEGIN"]
        statements += [_inlined(text, values) for text, values in self._pending]
        if last:
            statements.append(last)
        self._pending.clear()
        self.begun = True
        with _unique_violation_as_duplicate_key():
            return str(await self.connection.execute("; ".join(statements)))

    def _with_pending(self, text: str, values: list[Any]) -> tuple[str, list[Any]]:
        """The waiting writes as data-modifying WITH parts of an independent statement."""
        parts: list[str] = []
        arguments: list[Any] = []
        for number, (pending_text, pending_values) in enumerate(self._pending):
            parts.append(f"_w{number} AS ({_renumbered(pending_text, len(arguments))})")
            arguments.extend(pending_values)
        self._pending.clear()
        merged = "WITH " + ", ".join(parts) + " " + _renumbered(text, len(arguments))
        return merged, arguments + values

    async def fetch(
        self, sql: str, params: Params | None = None, *, independent: bool = False
    ) -> list[Row]:
        text, values = _postgres_args(sql, params)
        if self._pending and independent and text.lstrip()[:4].upper() != "WITH":
            text, values = self._with_pending(text, values)
        await self._begin()
        with _unique_violation_as_duplicate_key():
            return [dict(row) for row in await self.connection.fetch(text, *values)]

    async def _execute_now(self, text: str, values: list[Any]) -> str:
        await self._begin()
        with _unique_violation_as_duplicate_key():
            return str(await self.connection.execute(text, *values))

    async def execute(self, sql: str, params: Params | None = None) -> int:
        text, values = _postgres_args(sql, params)
        if self._pending and self._may_inline and _inlinable(values):
            # The simple protocol answers the status of the last statement: this one's.
            status = await self._send(_inlined(text, values))
        else:
            status = await self._execute_now(text, values)
        # asyncpg answers e.g. "UPDATE 3" or "INSERT 0 1": the count is last.
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def write(self, sql: str, params: Params | None = None) -> None:
        text, values = _postgres_args(sql, params)
        await self._later(text, values)

    async def _later(self, text: str, values: list[Any]) -> None:
        if self._may_inline and _inlinable(values):
            self._pending.append((text, values))
            return
        await self._execute_now(text, values)

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        text, names = _numbered(sql)
        head, values_clause, tail = _multi_row_parts(text)
        if values_clause is None:
            await self._begin()
            values = [[_postgres_value(row[name]) for name in names] for row in rows]
            await self.connection.executemany(text, values)
            return
        # One INSERT with a row per parameter set: one statement, one plan, where asyncpg's
        # executemany costs a bind and an execute message per row.
        width = len(names)
        groups = [_renumbered(values_clause, offset * width) for offset in range(len(rows))]
        arguments = [_postgres_value(row[name]) for row in rows for name in names]
        await self._later(head + ", ".join(groups) + tail, arguments)

    async def lock_chat(self, key: int) -> None:
        # The simple protocol takes several statements in one message, without parameters:
        # the key is an integer, written in by int() itself.
        if self.begun and not self._pending:
            await self.connection.execute("SELECT pg_advisory_xact_lock($1)", key)
            return
        await self._send(f"SELECT pg_advisory_xact_lock({int(key)})")

    async def end(self, *, commit: bool) -> None:
        if commit and self._pending:
            await self._send("COMMIT")
            self.begun = False
            return
        self._pending.clear()
        if self.begun:
            self.begun = False
            await self.connection.execute("COMMIT" if commit else "ROLLBACK")


async def _quietly(work: Awaitable[None]) -> None:
    """A rollback after an error must not hide that error."""
    try:
        await work
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        logger.warning("rollback failed", exc_info=True)


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
        async with pool.acquire() as connection:
            tx = PostgresTransaction(connection)
            try:
                yield tx
            except BaseException:
                await asyncio.shield(_quietly(tx.end(commit=False)))
                raise
            try:
                await asyncio.shield(tx.end(commit=True))
            except BaseException:
                # A failed COMMIT has ended the transaction already, but a write sent with it
                # may have failed first, leaving the transaction open: roll back.
                await asyncio.shield(_quietly(tx.end(commit=False)))
                raise

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
