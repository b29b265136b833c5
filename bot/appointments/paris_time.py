"""A date and time a counsellor gives, in Paris time, as the moment it names (UTC).

The admin form and the command line both take Paris wall-clock times. On the night the
clocks go forward, 02:00 to 02:59 never happens in Paris: such a time is refused rather than
quietly moved an hour. On the night they go back, 02:00 to 02:59 happens twice; the first
(summer time) is meant, as a calendar would read it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.clock import PARIS

# How the command line writes a start: "2026-05-12 10:00".
START_FORMAT = "%Y-%m-%d %H:%M"


class NoSuchTime(ValueError):
    """The clocks skip this time in Paris that day (the spring change)."""


def paris_moment(day: date, at: time) -> datetime:
    """The moment (aware, UTC) of ``at`` on ``day`` in Paris; NoSuchTime if it is skipped."""
    local = datetime.combine(day, at.replace(second=0, microsecond=0, tzinfo=None))
    moment = local.replace(tzinfo=PARIS).astimezone(UTC)
    # A skipped time comes back an hour off: 02:30 on the spring night reads 03:30.
    if moment.astimezone(PARIS).replace(tzinfo=None) != local:
        raise NoSuchTime(f"{local:%Y-%m-%d %H:%M} does not exist in Paris (clocks go forward)")
    return moment


def parse_start(written: str) -> datetime:
    """A start written "YYYY-MM-DD HH:MM" in Paris time, as a moment; ValueError if not one."""
    local = datetime.strptime(written.strip(), START_FORMAT)
    return paris_moment(local.date(), local.time())


def paris_text(moment: datetime) -> str:
    """A moment as the command line writes it, in Paris time: "2026-05-12 10:00"."""
    return moment.astimezone(PARIS).strftime(START_FORMAT)
