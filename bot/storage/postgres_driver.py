"""PostgreSQL: a pool of asyncpg connections, as few round trips as a step allows."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

import asyncpg

from bot.storage.database import (
    Database,
    DuplicateKey,
    Params,
    Row,
    Transaction,
    WriteInReading,
)
from bot.storage.sqlite_params import NAME
from bot.storage.values import to_postgres, utc

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1024)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return NAME.sub(replace, sql), tuple(names)


_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=1024)
def _renumbered(clause: str, offset: int) -> str:
    return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + offset}", clause)


def _postgres_args(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    text, names = _numbered(sql)
    given = params or {}
    return text, [to_postgres(given[name]) for name in names]


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
        return f"'{utc(value).isoformat()}'"
    if isinstance(value, str):
        # No NUL in it (to_postgres took them out), which would end the message early.
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def _inlined(text: str, values: list[Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: _literal(values[int(m.group(1)) - 1]), text)


@contextmanager
def _driver_errors() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        raise DuplicateKey(str(error)) from error
    except asyncpg.ReadOnlySQLTransactionError as error:
        raise WriteInReading(str(error)) from error


class PostgresTransaction(Transaction):
    """As few round trips as the statements allow: about seven became four for a step.

    - BEGIN goes with the first statement that needs it, or with the chat's lock (``BEGIN;
      SELECT pg_advisory_xact_lock(…)`` in one message); a transaction that runs nothing sends
      nothing.
    - Writes whose result nobody reads (``write``, ``insert_rows``) wait: they go
      with COMMIT, in one simple-protocol message (``UPDATE …; INSERT …; COMMIT``), inside an
      ``independent`` query as data-modifying ``WITH`` parts, or just before any other
      statement, which may read them. An error in one surfaces there, and rolls back all.
    """

    dialect = "postgresql"
    lock_rows = " FOR UPDATE"
    combines_statements = True
    begin_statement = "BEGIN"

    def timestamp(self, name: str) -> str:
        # In a CASE, PostgreSQL cannot tell a parameter's type from a column.
        return f"CAST(:{name} AS TIMESTAMPTZ)"

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
            await self.connection.execute(self.begin_statement)

    async def _send(self, last: str) -> str:
        """The waiting writes (BEGIN first if need be), then ``last``, as one message."""
        statements = [] if self.begun else [self.begin_statement]
        statements += [_inlined(text, values) for text, values in self._pending]
        if last:
            statements.append(last)
        self._pending.clear()
        self.begun = True
        with _driver_errors():
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
        with _driver_errors():
            return [dict(row) for row in await self.connection.fetch(text, *values)]

    async def fetch_tuples(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        text, values = _postgres_args(sql, params)
        await self._begin()
        with _driver_errors():
            return [tuple(row) for row in await self.connection.fetch(text, *values)]

    async def _execute_now(self, text: str, values: list[Any]) -> str:
        await self._begin()
        with _driver_errors():
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


class PostgresReadTransaction(PostgresTransaction):
    """A reading block (``Database.reading()``): its statements are async already; the
    transaction only says it reads, and sees one snapshot from its first statement
    (REPEATABLE READ, which never fails a transaction that only reads)."""

    begin_statement = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    async def write(self, sql: str, params: Params | None = None) -> None:
        # Refused at the call, not at the end of the block: the mistake is found where it is.
        raise WriteInReading(sql.split(None, 1)[0] if sql.strip() else sql)


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


class PostgresDatabase(Database):
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

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        return self._transaction(PostgresTransaction)

    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        return self._transaction(PostgresReadTransaction)

    @asynccontextmanager
    async def _transaction(
        self, kind: type[PostgresTransaction]
    ) -> AsyncIterator[PostgresTransaction]:
        pool = await self._get_pool()
        async with pool.acquire() as connection:
            tx = kind(connection)
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
