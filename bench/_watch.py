"""Watching a served process while something runs: its memory, and whether it still answers.

The probe is another person's request made every 20 ms on its own connection while an admin
page (or the purge) runs; its worst wait is how long the service froze for everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROBE_EVERY = 0.020
RSS_EVERY = 0.010


def rss_mb(pid: int) -> float:
    """The process's resident memory (VmRSS), in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Watched:
    """What the watch saw: the probe's waits, and the peak of the service's memory."""

    waits: list[float] = field(default_factory=list)
    failures: int = 0  # probe answers other than 2xx, and errors
    rss_peak_mb: float = 0.0

    @property
    def worst_wait_ms(self) -> float:
        return max(self.waits, default=0.0) * 1000


Probe = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def _probe(
    http: httpx.AsyncClient, call: Probe, seen: Watched, stopping: asyncio.Event
) -> None:
    while not stopping.is_set():
        started = time.monotonic()
        try:
            response = await call(http)
            if response.status_code >= 300:
                seen.failures += 1
        except httpx.HTTPError:
            seen.failures += 1
        seen.waits.append(time.monotonic() - started)
        with contextlib.suppress(TimeoutError):
            pause = max(0.0, started + PROBE_EVERY - time.monotonic())
            await asyncio.wait_for(stopping.wait(), pause)


async def _memory(pid: int, seen: Watched) -> None:
    while True:
        seen.rss_peak_mb = max(seen.rss_peak_mb, rss_mb(pid))
        await asyncio.sleep(RSS_EVERY)


@contextlib.asynccontextmanager
async def watching(url: str, pid: int, call: Probe) -> AsyncIterator[Watched]:
    """Probe the service at `url` with `call` and sample `pid`'s memory until the block ends.

    A probe still waiting at the end is waited for: its wait is part of the freeze.
    """
    seen = Watched(rss_peak_mb=rss_mb(pid))
    stopping = asyncio.Event()
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        await call(http)  # the connection opened before, so that its cost is not counted
        prober = asyncio.create_task(_probe(http, call, seen, stopping))
        sampler = asyncio.create_task(_memory(pid, seen))
        try:
            yield seen
        finally:
            stopping.set()
            await prober
            sampler.cancel()
    seen.rss_peak_mb = max(seen.rss_peak_mb, rss_mb(pid))
