"""When to try a failed delivery again: exponential back-off with jitter, about three days."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Waits after the 1st, 2nd… failed try; after the last one the delivery is given up
# (it stays listed, and can be replayed). They add up to about 72 hours.
SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=20),
)
# A receiver asking for more than a day is not honoured beyond it (the schedule goes on).
RETRY_AFTER_CAP = timedelta(hours=24)
JITTER = 0.2


def next_wait(
    failed_tries: int,
    *,
    retry_after: timedelta | None = None,
    schedule: Sequence[timedelta] = SCHEDULE,
    rng: random.Random | None = None,
) -> timedelta | None:
    """How long to wait after this many failed tries; None when it is time to give up.

    Jitter (±20 %) spreads the retries of many deliveries that failed together. A receiver's
    Retry-After is a minimum.
    """
    if failed_tries > len(schedule):
        return None
    base = schedule[failed_tries - 1]
    wait = base * (rng or random).uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        wait = max(wait, min(retry_after, RETRY_AFTER_CAP))
    return wait


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header: seconds, or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment - now, timedelta(0))
