"""Stored values, converted the same way by every path to the database.

One place for what both the driver layer and the SQLAlchemy column types do: times are aware
UTC datetimes in Python and SQLAlchemy's text format on SQLite, JSON goes as text, and text is
stored without NUL characters (PostgreSQL cannot store them, and nobody means to type one: a
crafted form or message would otherwise fail its write).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

# SQLAlchemy's storage format for DateTime on SQLite (naive UTC, sortable as text).
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


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


def as_bool(value: Any) -> bool | None:
    """A stored boolean (SQLite keeps 0 and 1)."""
    return None if value is None else bool(value)


def utc(value: datetime) -> datetime:
    """A time to store: refused when naive (it would be read back as UTC, wrongly)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return value.astimezone(UTC)


def without_nul(text: str) -> str:
    """Text as stored: without NUL characters."""
    return text.replace("\x00", "") if "\x00" in text else text


def to_sqlite(value: Any) -> Any:
    """A parameter as the sqlite3 module takes it."""
    if isinstance(value, str):
        return without_nul(value)
    if isinstance(value, datetime):
        return utc(value).strftime(SQLITE_TIME)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def to_postgres(value: Any) -> Any:
    """A parameter as asyncpg takes it (JSON columns as text)."""
    if isinstance(value, str):
        return without_nul(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value
