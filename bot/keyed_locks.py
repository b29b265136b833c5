"""One asyncio lock per key (a chat, a person), alive only while someone holds or awaits it."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class KeyedLocks(Generic[K]):
    """``async with locks[key]:`` serialises the work of one key in this process.

    Weak values: a key's lock disappears once nobody holds it, so memory follows the chats
    active now, not every chat ever seen.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[K, asyncio.Lock] = weakref.WeakValueDictionary()

    def __getitem__(self, key: K) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock
