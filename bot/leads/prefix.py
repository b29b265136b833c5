"""Text that starts with what a counsellor typed, found through an index on both databases.

``LIKE 'ines%'`` uses an index only under conditions each database sets its own way (SQLite: a
NOCASE index or ``case_sensitive_like``; PostgreSQL: a literal pattern and the C collation or
``text_pattern_ops``), and a parameter of a prepared statement is not a literal. A range is:
``key >= 'ines' AND key < 'inet'``, compared code point by code point. SQLite compares text so
by default; PostgreSQL compares by the database's collation (``fr_FR``: punctuation and
accents weigh less, so a range of a prefix would miss keys with a hyphen or a space), except
with ``text_pattern_ops``' own operators, ``~>=~`` and ``~<~``, which its indexes declared
with that operator class serve (bot/storage/models.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# What follows the surrogates: a range bound must be a character UTF-8 can encode.
_AFTER_SURROGATES = 0xE000
_SURROGATES = range(0xD800, 0xE000)


class _InRange(FunctionElement[bool]):
    """``column >= low AND column < high``, compared code point by code point."""

    type = Boolean()
    # A comparison, not a boolean value: SQLite's WHERE takes it as is (no "= 1" after it,
    # which would hide the range from the index).
    _is_implicitly_boolean = True
    name = "in_code_point_range"
    # Its column and bounds are its clauses: cached by their shape, values bound each time.
    inherit_cache = True


@compiles(_InRange)
def _in_range(element: _InRange, compiler: SQLCompiler, **kw: Any) -> str:
    column, low, high = (compiler.process(c, **kw) for c in element.clauses)
    return f"({column} >= {low} AND {column} < {high})"


@compiles(_InRange, "postgresql")
def _in_range_postgresql(element: _InRange, compiler: SQLCompiler, **kw: Any) -> str:
    column, low, high = (compiler.process(c, **kw) for c in element.clauses)
    return f"({column} ~>=~ {low} AND {column} ~<~ {high})"


def next_prefix(prefix: str) -> str | None:
    """The first text after every text starting with ``prefix`` (its last character moved one
    code point on); None when there is none (no character after it)."""
    for end in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[end]) + 1
        if code in _SURROGATES:
            code = _AFTER_SURROGATES
        if code <= 0x10FFFF:
            return prefix[:end] + chr(code)
    return None


def starts_with(column: InstrumentedAttribute[str | None], prefix: str) -> ColumnElement[bool]:
    """The rows whose ``column`` starts with ``prefix`` (exactly: case and accents count)."""
    after = next_prefix(prefix)
    if after is None:
        # Only U+10FFFF characters: none of them is typed; the range cannot be closed.
        return column == prefix
    return _InRange(column, prefix, after)
