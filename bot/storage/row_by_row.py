"""A column tested row by row on SQLite, so that a better index serves the query.

SQLite plans without statistics (nothing runs ``ANALYZE``): offered an index on a site or a
status, it takes it, however many leads share that value, and then sorts them all for a page
of 25 (240 ms at 100k leads, growing with them). ``+site`` is SQLite's own way to say "not
this index": the page then walks the (created_at, id) index, newest first, and stops after
25 that match. The same holds for a delivery's endpoint (bot/leads/endpoints.py), and for the
funnel's grouping when a period is chosen (bot/funnel.py). PostgreSQL keeps its statistics and
chooses for itself: there the column is left as is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class _RowByRow(FunctionElement[str]):
    type = String()
    name = "row_by_row"
    inherit_cache = True


@compiles(_RowByRow)
def _as_is(element: _RowByRow, compiler: SQLCompiler, **kw: Any) -> str:
    [column] = element.clauses
    return compiler.process(column, **kw)


@compiles(_RowByRow, "sqlite")
def _sqlite(element: _RowByRow, compiler: SQLCompiler, **kw: Any) -> str:
    [column] = element.clauses
    return "+" + compiler.process(column, **kw)


def row_by_row(column: InstrumentedAttribute[Any]) -> Any:
    """The column, which SQLite's planner may not look up by its own index."""
    return _RowByRow(column)
