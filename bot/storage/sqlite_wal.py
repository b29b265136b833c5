"""Keeping SQLite's write-ahead log small under steady traffic, with no fsync on the event loop.

The hot path's connection turns SQLite's automatic checkpoints off: they would copy the log
into the database and fsync inside a commit, on the event loop. Instead, every ``every``
commits, a round runs on a thread with a connection of its own:

1. PASSIVE copies what it can, waiting for nobody and blocking nobody.
2. Under steady traffic, commits land while it copies: the log is never all copied when the
   next commit begins, which is when SQLite starts it over. It only grows (560 MB after 18k
   web chat requests, for a 35 MB database). So when the log holds more than ``reset_pages``
   pages, RESTART follows, with this process's writers held back on their lock (an asyncio
   one: the loop goes on) for as long as it copies the few pages written meanwhile. The next
   commit then writes the log from its start again, over the old pages: the file stops
   growing. (TRUNCATE would also empty the file, but growing it again cost about 30 µs of
   system time per commit.)

A connection of another process reading an old snapshot makes RESTART give up after
``reset_wait_ms`` (our writers wait that long at most); the next round tries again. A log
that grew meanwhile is cut back to ``journal_size_limit`` when it starts over (db.py).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from typing import Literal

logger = logging.getLogger(__name__)
Mode = Literal["PASSIVE", "RESTART"]
# 64 MB of 4 KiB pages, as journal_size_limit. Restarts are not free: at 1000 pages (one
# every round or two) bench/sqlite_wal.py spent 15 % more CPU per request; at this many, no
# more than without them.
RESET_PAGES = 16384


class WalCheckpointer:
    """Checkpoint rounds after commits, one at a time; ``committed()`` after each commit."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        writers: asyncio.Lock,
        *,
        every: int = 500,
        reset_pages: int = RESET_PAGES,
        reset_wait_ms: int = 100,
    ) -> None:
        self.connect = connect
        self.writers = writers
        self.every = every  # commits; SQLite's own default is about 1000 pages
        self.reset_pages = reset_pages
        self.reset_wait_ms = reset_wait_ms
        self._commits = 0
        self._round: asyncio.Future[None] | None = None
        self._connection: sqlite3.Connection | None = None
        self._closed = False

    def committed(self) -> None:
        """Count a commit; start a round in the background when one is due."""
        self._commits += 1
        if self._commits >= self.every and self._round is None and not self._closed:
            self._commits = 0
            self._round = asyncio.ensure_future(self._run_round())
            self._round.add_done_callback(self._round_done)

    async def wait(self) -> None:
        """Until the round in flight, if any, has finished."""
        if self._round is not None:
            await asyncio.wait([self._round])

    async def close(self) -> None:
        """Finish the round in flight and close the connection (a later commit reopens it)."""
        self._closed = True  # no round starts while the connection closes
        await self.wait()
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._closed = False

    async def _run_round(self) -> None:
        log_pages = await asyncio.to_thread(self._checkpoint, "PASSIVE")
        # Even copied in full, a log starts over only if no commit came meanwhile: its size
        # decides, not what is left to copy.
        if log_pages > self.reset_pages:
            async with self.writers:
                await asyncio.to_thread(self._checkpoint, "RESTART")

    def _checkpoint(self, mode: Mode) -> int:
        """Run one checkpoint; the pages in the log when it began."""
        if self._connection is None:
            self._connection = self.connect()
            # Only RESTART waits: for another process's writer, or a reader of an old snapshot.
            self._connection.execute(f"PRAGMA busy_timeout={int(self.reset_wait_ms)}")
        busy, log_pages, _copied = self._connection.execute(
            f"PRAGMA wal_checkpoint({mode})"
        ).fetchone()
        if mode == "RESTART" and busy:
            logger.warning(
                "sqlite log not restarted: another connection kept reading; trying again later",
                extra={"log_pages": log_pages},
            )
        # -1 when the database is not in WAL mode (a database in memory).
        return max(int(log_pages), 0)

    def _round_done(self, future: asyncio.Future[None]) -> None:
        self._round = None
        if not future.cancelled() and (error := future.exception()) is not None:
            logger.warning("sqlite checkpoint failed", extra={"error": type(error).__name__})
