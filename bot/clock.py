"""The current time and new ids, for code that must not load SQLAlchemy to have them.

The command line reads leads, endpoints and accounts through the driver layer; importing
the column types (and SQLAlchemy with them) just to learn the time cost a command half a
second of its start.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random opaque identifier."""
    return uuid.uuid4().hex
