"""Pacing: at most so many messages a second overall, and about one a second in a chat."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import deque
from datetime import datetime

from bot.clock import utcnow


class Clock:
    """The sender's time: real here; tests pass one they move by hand."""

    def monotonic(self) -> float:
        return time.monotonic()

    def utcnow(self) -> datetime:
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Pace:
    """At most ``rate`` calls in any one-second window from this process (Telegram: ~30).

    A window rather than even spacing: replies to different people arriving together go out
    together, and only a real burst waits.
    """

    def __init__(self, rate: float, *, clock: Clock | None = None) -> None:
        self.rate = max(int(rate), 1)
        self.clock = clock or Clock()
        self.sent: deque[float] = deque()
        self.paused_until = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = self.clock.monotonic()
                while self.sent and now - self.sent[0] >= 1.0:
                    self.sent.popleft()
                delay = max(self.paused_until - now, 0.0)
                if len(self.sent) >= self.rate:
                    delay = max(delay, 1.0 - (now - self.sent[0]))
                if delay <= 0:
                    self.sent.append(now)
                    return
                await self.clock.sleep(delay)

    def pause(self, seconds: float) -> None:
        """The messenger asked us to slow down: nobody sends before then."""
        self.paused_until = max(self.paused_until, self.clock.monotonic() + seconds)


class ChatPace:
    """When each chat may next get a message from this process (about one a second).

    Only chats that must still wait are remembered: a chat's entry is forgotten once its time
    has passed, as the sender works (a heap of the times, popped while they are past), so the
    memory follows the chats written to in the last second or so, not every chat ever seen.
    """

    def __init__(self, interval: float, clock: Clock) -> None:
        self.interval = interval
        self.clock = clock
        self._ready: dict[int, float] = {}
        # (time, chat) for each time set; a chat set again has a stale entry, skipped when due.
        self._expiries: list[tuple[float, int]] = []

    async def wait(self, chat_id: int) -> None:
        now = self.clock.monotonic()
        self._forget_past(now)
        delay = self._ready.get(chat_id, now) - now
        if delay > 0:
            await self.clock.sleep(delay)

    def pause(self, chat_id: int, seconds: float) -> None:
        """No message to this chat before then (the messenger's limit for one person)."""
        self.sent(chat_id, interval=seconds)

    def sent(self, chat_id: int, *, interval: float | None = None) -> None:
        now = self.clock.monotonic()
        self._forget_past(now)
        ready = now + (self.interval if interval is None else interval)
        if ready <= now:
            self._ready.pop(chat_id, None)
            return
        self._ready[chat_id] = ready
        heapq.heappush(self._expiries, (ready, chat_id))

    def waiting_chats(self) -> int:
        """How many chats must still wait for their next message (the past ones forgotten)."""
        self._forget_past(self.clock.monotonic())
        return len(self._ready)

    def _forget_past(self, now: float) -> None:
        # Each entry is pushed once and popped once: amortised O(log n) a send.
        while self._expiries and self._expiries[0][0] <= now:
            ready, chat_id = heapq.heappop(self._expiries)
            if self._ready.get(chat_id) == ready:
                del self._ready[chat_id]
