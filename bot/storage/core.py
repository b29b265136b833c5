"""SQLAlchemy Core statements compiled for the driver layer (bot/storage/database.py).

A statement is compiled by SQLAlchemy's own dialect (IN lists expanded, ``FOR UPDATE`` and
``RETURNING`` as each database writes them, Python-side column defaults filled in), and its
results are converted by the types of its columns, as bot/storage/values.py stores them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.schema import Column
from sqlalchemy.types import TypeEngine

from bot.storage.values import as_bool, as_datetime, as_json

Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class Compiled:
    """A statement as the driver layer runs it: ``:name`` SQL, values, and its row converter."""

    sql: str
    params: dict[str, Any]
    converters: tuple[Convert | None, ...]

    def convert(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            value if convert is None or value is None else convert(value)
            for value, convert in zip(row, self.converters, strict=False)
        )


@cache
def dialect(name: str) -> Dialect:
    """SQLAlchemy's dialect of a database, writing parameters as ``:name``."""
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql.base import PGDialect

        return PGDialect(paramstyle="named")  # type: ignore[no-untyped-call]
    from sqlalchemy.dialects.sqlite.base import SQLiteDialect

    return SQLiteDialect(paramstyle="named")


def compile_statement(statement: Executable, dialect_name: str) -> Compiled:
    """Compile a Core statement for one database."""
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(
        dialect=dialect(dialect_name), compile_kwargs={"render_postcompile": True}
    )
    assert isinstance(compiled, SQLCompiler)
    params = dict(compiled.params)
    for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
        # Python-side defaults (created_at, updated_at): SQLAlchemy's engine would fill them.
        if params.get(column.key) is None:
            params[column.key] = _default(column, insert=column in compiled.insert_prefetch)
    columns = getattr(statement, "exported_columns", ())
    return Compiled(compiled.string, params, tuple(_converter(c.type) for c in columns))


def _default(column: Column[Any], *, insert: bool) -> Any:
    default = column.default if insert else column.onupdate
    arg = getattr(default, "arg", None)
    if getattr(default, "is_callable", False):
        return arg(None)  # type: ignore[misc]
    return arg


def _converter(column_type: TypeEngine[Any]) -> Convert | None:
    if isinstance(column_type, DateTime) or isinstance(
        getattr(column_type, "impl_instance", None), DateTime
    ):
        return as_datetime
    if isinstance(column_type, JSON):
        return as_json
    if isinstance(column_type, Boolean):
        return as_bool
    return None
