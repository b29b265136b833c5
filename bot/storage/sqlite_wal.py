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

RESTART holds SQLite's write lock: every writer of every process waits while it copies what
the log gained since the PASSIVE copy, syncs the database file, then waits for other
connections to finish reading the log. Each wait is kept short (issue #18: a chat waited
200-450 ms while ``aiguillage purge`` wrote from another process, some 100 MB a second):

- Before RESTART, PASSIVE copies again until one copy took less than ``settled_s``: RESTART
  then copies about as much. If another process writes faster than that within a few tries,
  this round does not restart; a later one will.
- The database and log files are flushed to disk first, holding no lock (``_write_out``). A
  PASSIVE copy syncs the database only when it copied the whole log, which a commit landing
  meanwhile prevents: the pages copied by earlier passes waited for RESTART's sync, with every
  writer held (60-170 ms at a million conversations; 1-8 ms once flushed before).
- A connection reading an old snapshot (another process's, or one of our counsellors' pages
  on a reading thread) makes RESTART give up after ``reset_wait_ms``; the next round tries
  again. A log that grew meanwhile is cut back to ``journal_size_limit`` when it starts over
  (sqlite_pragmas.py).

A batch job in a process of its own (``aiguillage purge``, ``batch_job=True``) writes its
batches as fast as it can. Its background rounds only copy, and the service's rounds seldom
find the log settled while it writes: at a million conversations the log grew by gigabytes,
all to be copied, synced and cut back later. So the job bounds its own log instead
(``between_batches``): between two of its batches, none of its writes under way, it copies
what it wrote and, past half of ``reset_pages``, restarts the log. Half: the file then stays
under ``journal_size_limit``, never cut back nor grown again while the job runs.

Rounds also come every ``every_s`` seconds when a commit came: a process writing big batches
(the purge) commits seldom, and its log would otherwise grow by hundreds of MB before a round,
to be copied, then cut back, by somebody's commit, all at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from typing import Literal

logger = logging.getLogger(__name__)
Mode = Literal["PASSIVE", "RESTART"]
# 64 MB of 4 KiB pages, as journal_size_limit. Restarts are not free: at 1000 pages (one
# every round or two) bench/sqlite_wal.py spent 15 % more CPU per request; at this many, no
# more than without them.
RESET_PAGES = 16384
# RESTART may start once a PASSIVE copy took less than this: it then copies about as much.
SETTLED_S = 0.010
SETTLE_TRIES = 5
# A round at least this often (seconds) when something was committed.
EVERY_S = 1.0


class WalCheckpointer:
    """Checkpoint rounds after commits, one at a time; ``committed()`` after each commit."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        writers: asyncio.Lock,
        *,
        every: int = 500,
        reset_pages: int = RESET_PAGES,
        reset_wait_ms: int = 20,
        settled_s: float = SETTLED_S,
        every_s: float = EVERY_S,
        batch_job: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connect = connect
        self.writers = writers
        self.every = every  # commits; SQLite's own default is about 1000 pages
        self.reset_pages = reset_pages
        self.reset_wait_ms = reset_wait_ms
        self.settled_s = settled_s
        self.every_s = every_s
        self.batch_job = batch_job
        self.clock = clock
        self._commits = 0
        self._last_round = clock()
        self._round: asyncio.Future[None] | None = None
        self._connection: sqlite3.Connection | None = None
        self._closed = False

    def committed(self) -> None:
        """Count a commit; start a round in the background when one is due."""
        self._commits += 1
        if self._round is not None or self._closed:
            return
        now = self.clock()
        if self._commits >= self.every or now - self._last_round >= self.every_s:
            self._commits, self._last_round = 0, now
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
        if self.batch_job or log_pages <= self.reset_pages:
            return
        if not await self._settled(log_pages):
            return
        await self._restart()

    async def _restart(self) -> None:
        """RESTART, holding this process's writers, once the files are on disk."""
        await asyncio.to_thread(self._write_out)
        async with self.writers:
            await asyncio.to_thread(self._checkpoint, "RESTART")

    async def _settled(self, log_pages: int) -> bool:
        """Whether copying what the log gained is now quick (RESTART, which holds every writer
        while it copies what came since, will be about as quick)."""
        for _ in range(SETTLE_TRIES):
            started = self.clock()
            before, log_pages = log_pages, await asyncio.to_thread(self._checkpoint, "PASSIVE")
            took = self.clock() - started
            if log_pages < before:
                return False  # it started over meanwhile: nothing to restart
            if took < self.settled_s:
                return True
        logger.info(
            "sqlite log not restarted: another process keeps writing; trying again later",
            extra={"log_pages": log_pages},
        )
        return False

    async def between_batches(self) -> None:
        """A batch job, between two of its batches: copy what the batch wrote, and restart the
        log past half of ``reset_pages`` (nothing in the service, whose rounds restart it)."""
        if not self.batch_job or self._closed:
            return
        await self.wait()  # one checkpoint at a time
        try:
            if await asyncio.to_thread(self._checkpoint, "PASSIVE") > self.reset_pages // 2:
                await self._restart()
        except (sqlite3.Error, OSError) as error:
            # The job goes on: its next pause tries again, and its log only grows meanwhile.
            logger.warning("sqlite checkpoint failed", extra={"error": type(error).__name__})

    def _write_out(self) -> None:
        """Flush the database and log files to disk, holding no lock: RESTART, which holds
        every writer, then syncs little. (fdatasync through any descriptor of a file writes out
        all its pages waiting in memory.)"""
        assert self._connection is not None
        path = str(self._connection.execute("PRAGMA database_list").fetchone()[2])
        for name in (path, path + "-wal"):
            try:
                descriptor = os.open(name, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                os.fdatasync(descriptor)
            finally:
                os.close(descriptor)

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
