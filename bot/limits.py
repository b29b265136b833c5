"""Rate limits kept in memory: how often one address or one session may do something.

A stranger's script must not be able to fill the database, the partners' endpoints or the
counsellors' group. Each process keeps its own buckets (a restart forgets them, several
processes each allow the full rate): enough against a flood, and no shared store to run.
The clock is injected so that tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.keyed_locks import KeyedLocks

Clock = Callable[[], float]
Reply = TypeVar("Reply")
# Buckets kept per limiter: the oldest untouched ones are forgotten first (a forgotten key
# starts again with a full bucket, which only ever errs on the side of the person).
MAX_KEYS = 20_000


@dataclass(frozen=True)
class Rate:
    """``count`` actions per ``seconds``, of which up to ``burst`` at once (default: count)."""

    count: int
    seconds: float
    burst: int | None = None

    @property
    def capacity(self) -> float:
        return float(self.burst if self.burst is not None else self.count)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


class RateLimiter:
    """Token buckets by key (an address, a session): ``take`` spends one token if it can."""

    def __init__(self, rate: Rate, *, clock: Clock = time.monotonic, max_keys: int = MAX_KEYS):
        self.rate = rate
        self.clock = clock
        self.max_keys = max_keys
        # key -> (tokens left, when they were counted); most recently used last.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, key: str, now: float) -> float:
        tokens, counted = self._buckets.get(key, (self.rate.capacity, now))
        refilled = tokens + max(now - counted, 0.0) * self.rate.per_second
        return min(refilled, self.rate.capacity)

    def allows(self, key: str) -> bool:
        """Whether ``take`` would succeed now (nothing is spent)."""
        return self._tokens(key, self.clock()) >= 1.0

    def take(self, key: str) -> float:
        """Spend a token: 0.0 when allowed, else the seconds to wait for the next one."""
        now = self.clock()
        tokens = self._tokens(key, now)
        if tokens >= 1.0:
            self._store(key, tokens - 1.0, now)
            return 0.0
        self._store(key, tokens, now)
        return (1.0 - tokens) / self.rate.per_second

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


class RecentReplies(Generic[Reply]):
    """The last reply of each session, to answer the same input re-sent within ``seconds``.

    A double tap or a client's retry would otherwise be a second step. The caller decides
    which inputs may be repeats (the same answer to a new question may be meant). Hold
    ``lock(key)`` around the look-up, the step and ``remember``, so that a repeat arriving
    during the first step waits for its reply.
    """

    def __init__(self, seconds: float, *, clock: Clock = time.monotonic, max_keys: int = MAX_KEYS):
        self.seconds = seconds
        self.clock = clock
        self.max_keys = max_keys
        # key -> (input fingerprint, when, reply)
        self._last: OrderedDict[str, tuple[str, float, Reply]] = OrderedDict()
        self._locks: KeyedLocks[str] = KeyedLocks()

    def lock(self, key: str) -> asyncio.Lock:
        return self._locks[key]

    def repeated(self, key: str, fingerprint: str) -> Reply | None:
        """The reply to this very input if it was the key's last one, within the window."""
        entry = self._last.get(key)
        if self.seconds <= 0 or entry is None or entry[0] != fingerprint:
            return None
        return entry[2] if self.clock() - entry[1] <= self.seconds else None

    def remember(self, key: str, fingerprint: str, reply: Reply) -> None:
        if self.seconds <= 0:
            return
        self._last[key] = (fingerprint, self.clock(), reply)
        self._last.move_to_end(key)
        while len(self._last) > self.max_keys:
            self._last.popitem(last=False)


def retry_after_header(wait: float) -> str:
    """Whole seconds for a Retry-After header (at least one: zero would invite a retry now)."""
    return str(max(1, math.ceil(wait)))
