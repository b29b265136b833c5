"""A clock that moves only when a test moves it: leases and retries without sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import utcnow


class ManualClock:
    """Call it for the time; ``advance`` moves it. Starts at the real time, then stands still."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Ticks:
    """A monotonic clock in seconds for rate limiters, moved by the test (``ticks.now += 61``)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
