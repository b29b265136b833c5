"""SQLAlchemy Core statements compiled for the driver layer (bot/storage/database.py).

A statement is compiled by SQLAlchemy's own dialect (IN lists expanded, ``FOR UPDATE`` and
``RETURNING`` as each database writes them, Python-side column defaults filled in), and its
results are converted by the types of its columns, as bot/storage/values.py stores them.

Compiling costs about 0.3 ms of CPU, five times running the statement: compiled statements
are kept by SQLAlchemy's own cache key (the statement's shape, without its values), as its
engine does. A statement with an IN list is compiled each time, its SQL depending on the
list's length.
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


# Statement shapes kept compiled; the product has a few hundred at most.
MAX_CACHED = 1024


@dataclass(frozen=True)
class _Shape:
    """What a statement's shape compiles to, whatever its values."""

    compiled: SQLCompiler
    converters: tuple[Convert | None, ...]
    # Columns whose Python-side default fills in a value the statement does not give.
    defaults: tuple[tuple[Column[Any], bool], ...]


_cache: dict[tuple[str, Any], _Shape] = {}


def compile_statement(statement: Executable, dialect_name: str) -> Compiled:
    """Compile a Core statement for one database (its shape once, its values each time)."""
    assert isinstance(statement, ClauseElement)
    key = statement._generate_cache_key()
    shape = _cache.get((dialect_name, key.key)) if key is not None else None
    if shape is not None and key is not None:
        params = dict(shape.compiled.construct_params(extracted_parameters=key.bindparams))
    else:
        engine_dialect = dialect(dialect_name)
        plain = engine_dialect.statement_compiler(engine_dialect, statement, cache_key=key)
        if key is not None and not plain.post_compile_params:
            shape = _shape(plain, statement)
            if len(_cache) >= MAX_CACHED:
                _cache.clear()
            _cache[(dialect_name, key.key)] = shape
        else:
            expanded = statement.compile(
                dialect=engine_dialect, compile_kwargs={"render_postcompile": True}
            )
            assert isinstance(expanded, SQLCompiler)
            shape = _shape(expanded, statement)
        params = dict(shape.compiled.params)
    for column, insert in shape.defaults:
        # Python-side defaults (created_at, updated_at): SQLAlchemy's engine would fill them.
        if params.get(column.key) is None:
            params[column.key] = _default(column, insert=insert)
    return Compiled(shape.compiled.string, params, shape.converters)


def _shape(compiled: SQLCompiler, statement: Executable) -> _Shape:
    columns = getattr(statement, "exported_columns", ())
    defaults = [(column, True) for column in compiled.insert_prefetch]
    defaults += [(column, False) for column in compiled.update_prefetch]
    return _Shape(compiled, tuple(_converter(c.type) for c in columns), tuple(defaults))


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
