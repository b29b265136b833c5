"""Rate limits in memory: a burst, then one at a time; time moved by the test, not slept."""

from __future__ import annotations

import asyncio

from bot.limits import Rate, RateLimiter, RecentReplies, retry_after_header
from tests.auxil.clock import Ticks


def test_a_burst_is_allowed_then_the_next_waits_for_a_token() -> None:
    clock = Ticks()
    limiter = RateLimiter(Rate(60, 60.0, burst=3), clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == 1.0  # one token a second
    clock.now += 0.5
    assert limiter.take("a") == 0.5
    clock.now += 0.5
    assert limiter.take("a") == 0.0


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter(Rate(1, 60.0), clock=Ticks())
    assert limiter.take("203.0.113.1") == 0.0
    assert limiter.take("203.0.113.1") > 0
    assert limiter.take("203.0.113.2") == 0.0


def test_allows_spends_nothing() -> None:
    limiter = RateLimiter(Rate(1, 3600.0), clock=Ticks())
    assert limiter.allows("a")
    assert limiter.allows("a")
    assert limiter.take("a") == 0.0
    assert not limiter.allows("a")


def test_a_refill_never_exceeds_the_burst() -> None:
    clock = Ticks()
    limiter = RateLimiter(Rate(2, 60.0), clock=clock)
    clock.now += 10_000
    assert [limiter.take("a") == 0.0 for _ in range(3)] == [True, True, False]


def test_memory_is_bounded_forgetting_the_oldest_key() -> None:
    limiter = RateLimiter(Rate(1, 60.0), clock=Ticks(), max_keys=2)
    for key in ("a", "b", "c"):
        limiter.take(key)
    assert limiter.take("a") == 0.0  # forgotten: a full bucket again
    assert limiter.take("c") > 0


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"


async def test_the_same_input_again_within_the_window_gets_the_first_reply() -> None:
    clock = Ticks()
    replies: RecentReplies[str] = RecentReplies(5.0, clock=clock)
    replies.remember("session", "yes", "reply 1")
    assert replies.repeated("session", "yes") == "reply 1"
    assert replies.repeated("session", "no") is None
    assert replies.repeated("other", "yes") is None
    clock.now += 5.1
    assert replies.repeated("session", "yes") is None


async def test_a_repeat_waits_for_the_first_reply_under_the_sessions_lock() -> None:
    replies: RecentReplies[str] = RecentReplies(5.0, clock=Ticks())
    steps: list[str] = []

    async def send(fingerprint: str) -> str:
        async with replies.lock("session"):
            repeated = replies.repeated("session", fingerprint)
            if repeated is not None:
                return repeated
            await asyncio.sleep(0)  # the step's database work: the repeat arrives meanwhile
            steps.append(fingerprint)
            replies.remember("session", fingerprint, f"reply {len(steps)}")
            return f"reply {len(steps)}"

    assert list(await asyncio.gather(send("yes"), send("yes"))) == ["reply 1", "reply 1"]
    assert steps == ["yes"]


def test_a_window_of_zero_remembers_nothing() -> None:
    replies: RecentReplies[str] = RecentReplies(0.0, clock=Ticks())
    replies.remember("session", "yes", "reply")
    assert replies.repeated("session", "yes") is None
