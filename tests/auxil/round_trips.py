"""Counting the messages asyncpg sends to PostgreSQL: one round trip each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

# Every asyncpg call that sends one message and waits for its answer.
SENDING = ("execute", "fetch", "fetchrow", "fetchval", "executemany")


@contextmanager
def asyncpg_messages() -> Iterator[list[str]]:
    """The statements sent while inside, in order (the list fills as they go)."""
    sent: list[str] = []
    originals = {name: getattr(asyncpg.Connection, name) for name in SENDING}

    def counting(real: Any) -> Any:
        def send(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            sent.append(query)
            return real(self, query, *args, **kwargs)

        return send

    for name, real in originals.items():
        setattr(asyncpg.Connection, name, counting(real))
    try:
        yield sent
    finally:
        for name, real in originals.items():
            setattr(asyncpg.Connection, name, real)
