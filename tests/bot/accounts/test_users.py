"""Password checks: one verification whatever the account, in a few threads of their own."""

from __future__ import annotations

import asyncio
import threading

from bot.accounts.users import Passwords
from tests.auxil.passwords import CountingHasher


class ThreadRecordingHasher(CountingHasher):
    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def verify(self, password: str, hash: str) -> bool:
        with self._lock:
            self.threads.add(threading.current_thread().name)
        return super().verify(password, hash)


async def test_a_check_verifies_once_even_without_an_account() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher)
    stored = passwords.hash("correct horse battery staple")
    assert await passwords.check("correct horse battery staple", stored)
    assert not await passwords.check("wrong", stored)
    assert not await passwords.check("correct horse battery staple", None)
    assert hasher.verified == 3


async def test_a_flood_of_checks_waits_for_a_few_threads_of_its_own() -> None:
    hasher = ThreadRecordingHasher()
    passwords = Passwords(hasher, concurrent_checks=2)
    stored = passwords.hash("correct horse battery staple")
    results = await asyncio.gather(*(passwords.check(f"guess {n}", stored) for n in range(12)))
    assert results == [False] * 12
    assert hasher.verified == 12
    assert 1 <= len(hasher.threads) <= 2
    assert all(name.startswith("password-check") for name in hasher.threads)
