"""Waiting for work: woken at once by an event, or after a while to see others' work."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_for_work(event: asyncio.Event, seconds: float, *, clear: bool = True) -> None:
    """Return when the event is set or the time is up, whichever comes first."""
    if clear:
        event.clear()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)
