"""The current time, the time zone people live in, and new ids (no SQLAlchemy needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Where PôleS and the people it serves are: days and hours are shown and counted in it.
PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random opaque identifier."""
    return uuid.uuid4().hex
