"""Erasing or changing many rows in short transactions, so that nobody waits behind them.

One transaction for a whole purge held SQLite's only write lock for 23–27 s at a million
conversations (issue #18): every conversation step waited, and gave up after 30 s. Here each
batch is its own transaction over at most ``size`` rows chosen by key, complete in itself (a
row goes with what depends on it), so that a process stopped between two batches leaves
nothing half done; between two batches the purge waits, without any transaction:

- in the same process, the event loop serves others (SQLite's transactions queue on one lock
  in the order they asked);
- on SQLite another process gets the write lock: its ``BEGIN`` is retried after sleeps that
  double up to ``BUSY_RETRY_MAX_S`` (bot/storage/sqlite_driver.py), so the purge pauses a
  little longer than that, or a waiter would keep missing the gap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.storage.database import Database, Transaction
from bot.storage.sqlite_driver import BUSY_RETRY_MAX_S

# Rows at most per transaction: the purge's heaviest batch (500 conversations, with their
# transcripts of about 20 lines each) stays within a few tens of milliseconds on SQLite.
BATCH_SIZE = 500
# A batch should hold the write lock (and, on SQLite, the event loop) about this long at most:
# the size shrinks when a batch took longer, and grows back to ``size`` when batches are quick.
BATCH_TARGET_S = 0.025
# A margin over the longest sleep between two tries of a busy SQLite BEGIN.
_MARGIN_S = 0.005
_SMALLEST = 10
_FIRST = 50


@dataclass(frozen=True)
class Batch:
    """What one batch did: rows changed, and whether rows may be left (it took a full batch)."""

    changed: int
    more: bool


# One batch of a job: given a transaction and how many rows at most, do them.
Step = Callable[[Transaction, int], Awaitable[Batch]]
# Called between two batches, outside any transaction (tests run a write there).
Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Batching:
    """How a long job is cut: at most ``size`` rows a transaction, then a pause."""

    size: int = BATCH_SIZE
    target_s: float = BATCH_TARGET_S
    between: Hook | None = None
    # Set to stop after the batch under way (the service stopping); what was done stays done.
    stop: asyncio.Event | None = None

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()


async def in_batches(database: Database, step: Step, batching: Batching) -> int:
    """Run ``step`` in short transactions until it has nothing left; the rows it changed."""
    # The first batch is small: how long a batch takes here is not known yet (a batch of 500
    # conversations with their transcripts can hold SQLite's lock 150 ms on a busy machine).
    changed, size = 0, min(batching.size, _FIRST)
    while not batching.stopped():
        started = time.monotonic()
        async with database.transaction() as tx:
            batch = await step(tx, size)
        took = time.monotonic() - started
        changed += batch.changed
        if not batch.more:
            break
        size = _next_size(size, took, batching)
        await database.between_batches()
        await _pause(database, took)
        if batching.between is not None:
            await batching.between()
    return changed


def _next_size(size: int, took: float, batching: Batching) -> int:
    """Aim the next batch at the target duration (a machine busy with other work, wide rows)."""
    if took <= 0:
        return batching.size
    aimed = int(size * batching.target_s / took)
    # Grow at most twice as big at a time: one quick batch is no proof the next one is.
    return max(min(batching.size, _SMALLEST), min(batching.size, 2 * size, aimed))


async def _pause(database: Database, took: float) -> None:
    if database.dialect == "sqlite":
        await asyncio.sleep(min(took, BUSY_RETRY_MAX_S) + _MARGIN_S)
    else:
        # PostgreSQL locks rows, not the database: others only need the loop in between.
        await asyncio.sleep(0)
