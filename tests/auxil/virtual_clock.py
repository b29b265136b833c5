"""A clock for the Telegram sender that moves only when a test moves it: pacing without sleeping.

clock = VirtualClock()
sender = OutboxSender(database, bot, clock=clock)
await clock.run(sender.deliver(queued))   # advances to each sleeper's deadline in turn
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.clock import utcnow
from bot.messaging.sender import Clock
from tests.auxil.recording_request import RecordingRequest

T = TypeVar("T")


class VirtualClock(Clock):
    """Seconds since the start, standing still until ``advance`` or ``run`` moves them."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.start = utcnow()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.sleeping = asyncio.Event()  # set whenever a task starts to sleep

    def monotonic(self) -> float:
        return self.elapsed

    def utcnow(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.elapsed + seconds, next(self._order), wake))
        self.sleeping.set()
        await wake

    def advance(self, seconds: float) -> None:
        """Move the time on, waking whoever's deadline it reaches."""
        self.elapsed += seconds
        while self._sleepers and self._sleepers[0][0] <= self.elapsed:
            _, _, wake = heapq.heappop(self._sleepers)
            if not wake.done():
                wake.set_result(None)

    async def run(self, work: Awaitable[T]) -> T:
        """Await ``work``, moving the time to the next deadline whenever someone sleeps."""
        task = asyncio.ensure_future(work)
        while not task.done():
            self.sleeping.clear()
            if not self._sleepers:
                sleeping = asyncio.ensure_future(self.sleeping.wait())
                await asyncio.wait({task, sleeping}, return_when=asyncio.FIRST_COMPLETED)
                sleeping.cancel()
            if self._sleepers and not task.done():
                self.advance(self._sleepers[0][0] - self.elapsed)
                await asyncio.sleep(0)
        return task.result()


class ClockedRecorder(RecordingRequest):
    """A recording request that also notes each call's time on a virtual clock."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self.clock = clock
        self.stamped: list[tuple[str, dict[str, Any], float]] = []

    async def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.stamped.append((method, params, self.clock.monotonic()))
        return await super().answer(method, params)

    def sent_at(self, chat_id: int) -> list[tuple[str, float]]:
        """The texts sent to a chat, each with the virtual time it went out."""
        return [
            (params["text"], at)
            for method, params, at in self.stamped
            if method == "sendMessage" and params.get("chat_id") == chat_id
        ]
