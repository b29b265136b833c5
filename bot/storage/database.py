"""The one way to the database: transactions on the drivers (sqlite3, asyncpg).

Every statement of the product runs in a ``Transaction`` of the process's ``Database``:

- **Storage and repository modules build statements with SQLAlchemy Core** (``tx.all``,
  ``tx.first``, ``tx.scalar``, ``tx.scalars``, ``tx.run``) on the models of
  ``bot/storage/models.py``: typed results, IN lists and dialect differences (``FOR UPDATE``,
  ``RETURNING``) left to SQLAlchemy.
- **The hot path** runs SQL text written once for both databases, with ``:name``
  parameters (``fetch``, ``execute``, ``write``, ``insert_rows``), in three storage modules,
  one per table: ``bot/messaging/inbox.py``, ``bot/conversations/repository.py`` (a step's
  part) and ``bot/messaging/outbox.py``. A Core statement costs about twice the CPU of its text (the
  review's measure: 263 µs against 126 µs for one select and one update), which a step pays at
  every message.

Both run on the drivers, not through SQLAlchemy's engine: SQLite's statements then run on the
event loop (a thread hop per statement was most of the cost of the async driver), and a
repository's statements join the step's transaction when the step calls it.

Pages that only read (the counsellors') use ``Database.reading()`` instead: a read-only
snapshot whose statements, on SQLite, run on a thread (bot/storage/sqlite_reading.py), so that
a query of seconds never stops the chat.

Writes whose result nobody reads (``write``, ``insert_rows``) wait for the next statement or
the commit, **on both databases**: an error in one (a duplicate key) surfaces there, never at
the call. Whoever needs to know at once uses ``execute`` or ``run``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple

from bot.settings import sqlite_file

if TYPE_CHECKING:
    # SQLAlchemy is loaded by the first Core statement, not by commands that never run one.
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.selectable import TypedReturnsRows

Params = Mapping[str, Any]
Row = dict[str, Any]
_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")


class DuplicateKey(Exception):
    """An insert hit a unique constraint (another worker wrote the same row first)."""


class WriteInReading(Exception):
    """A statement tried to write inside ``Database.reading()``, which only reads."""


class Transaction(ABC):
    """Statements run inside one database transaction."""

    dialect: str
    # What differs between the databases, said by each driver (no dialect test elsewhere):
    # the clause that locks the rows a query reads (SQLite's transaction holds the one write
    # lock already), and whether a query may carry a write before it in one statement.
    lock_rows: str = ""
    combines_statements: bool = False

    def timestamp(self, name: str) -> str:
        """A time parameter where the database cannot tell its type from the column (CASE)."""
        return f":{name}"

    # --- SQL text: the hot path ----------------------------------------------------------

    @abstractmethod
    async def fetch(
        self, sql: str, params: Params | None = None, *, independent: bool = False
    ) -> list[Row]:
        """Rows of a query, as dicts keyed by column name.

        ``independent``: the statement reads nothing that the writes still waiting (``write``,
        ``insert_rows``) change, and writes to none of their tables; on PostgreSQL they may
        then travel inside it, as data-modifying ``WITH`` parts, instead of going first.
        """

    @abstractmethod
    async def fetch_tuples(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Rows of a query as tuples, in the order of its columns."""

    @abstractmethod
    async def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement now; the number of rows it changed. Its error surfaces here."""

    @abstractmethod
    async def write(self, sql: str, params: Params | None = None) -> None:
        """Run a statement whose result is not needed: it waits for the next statement or the
        commit, and an error in it (a duplicate key) surfaces there, on both databases."""

    async def insert_rows(self, table: str, rows: Sequence[Params]) -> None:
        """Insert rows in one statement (``multi_row_insert``); it waits like ``write``."""
        if rows:
            await self.write(*multi_row_insert(table, rows))

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    async def lock_chat(self, key: int) -> None:
        """Serialise transactions about one chat across processes (until this one ends)."""

    # --- SQLAlchemy Core: everything else ------------------------------------------------

    async def all(self, statement: TypedReturnsRows[*_Ts]) -> list[tuple[*_Ts]]:
        """The rows of a Core statement (SELECT, or a write with RETURNING), typed."""
        from bot.storage.core import compile_statement

        compiled = compile_statement(statement, self.dialect)
        rows = await self.fetch_tuples(compiled.sql, compiled.params)
        return [compiled.convert(row) for row in rows]

    async def first(self, statement: TypedReturnsRows[*_Ts]) -> tuple[*_Ts] | None:
        """The first row of a Core statement, or None."""
        rows = await self.all(statement)
        return rows[0] if rows else None

    async def scalars(self, statement: TypedReturnsRows[_T]) -> list[_T]:
        """The one column of a Core statement's rows."""
        return [row[0] for row in await self.all(statement)]

    async def scalar(self, statement: TypedReturnsRows[_T]) -> _T | None:
        """The one value of a Core statement's first row, or None when it has none."""
        row = await self.first(statement)
        return row[0] if row else None

    async def run(self, statement: Executable) -> int:
        """Run a Core write now; the number of rows it changed. Its error surfaces here."""
        from bot.storage.core import compile_statement

        compiled = compile_statement(statement, self.dialect)
        return await self.execute(compiled.sql, compiled.params)


def multi_row_insert(table: str, rows: Sequence[Params]) -> tuple[str, dict[str, Any]]:
    """One INSERT of several rows (each a mapping of column to value, all with the same
    columns), and its parameters. Table and columns are the code's, never input."""
    columns = list(rows[0])
    params: dict[str, Any] = {}
    groups = []
    for n, row in enumerate(rows):
        groups.append("(" + ", ".join(f":{column}_{n}" for column in columns) + ")")
        params.update((f"{column}_{n}", row[column]) for column in columns)
    names = ", ".join(columns)
    return f"INSERT INTO {table} ({names}) VALUES " + ", ".join(groups), params


class Database(ABC):
    """Transactions on one database, for the whole process."""

    dialect: str

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """``async with db.transaction() as tx``: commit on success, roll back on error."""

    @abstractmethod
    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        """``async with db.reading() as tx``: a read-only transaction, for pages that only read.

        Its statements see one state of the database, the one of its first statement (a
        snapshot), and a write in it raises ``WriteInReading``. On SQLite they run on a thread
        with a read-only connection of their own, so that a long query (a counsellor's page)
        never holds the event loop, nor the writers' lock the conversation steps wait on.
        Large results: page by key with several short queries in the block (or one block per
        page: a SQLite snapshot held long keeps the log from starting over).
        """

    async def between_batches(self) -> None:
        """A long job, between two of its batches (bot/batches.py), outside any transaction:
        where a driver tidies up after what the batch wrote (SQLite: its log). Nothing here."""
        return None

    @abstractmethod
    async def close(self) -> None:
        """Close the connections."""


def open_database(url: str, *, batch_job: bool = False) -> Database:
    """The database of a SQLAlchemy URL (sqlite+aiosqlite or postgresql); ``batch_job`` for a
    command that writes much beside a running service (SQLite: bot/storage/sqlite_wal.py)."""
    # Not SQLAlchemy's make_url: it would load SQLAlchemy into every command.
    if url.startswith("sqlite"):
        from bot.storage.sqlite_driver import SqliteDatabase

        path = sqlite_file(url)
        return SqliteDatabase(str(path) if path is not None else ":memory:", batch_job=batch_job)
    from bot.storage.postgres_driver import PostgresDatabase

    return PostgresDatabase(f"postgresql://{url.partition('://')[2]}")
