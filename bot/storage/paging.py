"""Reading a large result in batches, each a short query of its own (key paging).

A CSV of every lead must not hold them all in memory, nor one snapshot for as long as a slow
browser takes to download it: on SQLite a reader that stays keeps the write-ahead log from
starting over (sqlite_wal.py), and holds one of the two readers. So each batch is read in a
``reading()`` block of its own, after the key of the last row of the batch before: with an
index on the key, every batch costs the same, the first as the last (OFFSET would read all
the rows before it again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from bot.storage.database import Database, Transaction

_Row = TypeVar("_Row")
_Key = TypeVar("_Key")


async def batches_by_key(
    database: Database,
    read_batch: Callable[[Transaction, _Key | None], Awaitable[list[_Row]]],
    key_of: Callable[[_Row], _Key],
) -> AsyncIterator[list[_Row]]:
    """The batches ``read_batch(tx, after)`` reads, the first with ``after=None``, each next
    one after the key of the last row given; until a batch comes back empty.

    ``read_batch`` orders by the key and stops at its batch size (``ORDER BY created_at DESC,
    id DESC LIMIT 500``, with ``WHERE (created_at, id) < after``). Rows written meanwhile
    appear if their key comes later in that order; none is given twice.
    """
    after: _Key | None = None
    while True:
        async with database.reading() as tx:
            batch = await read_batch(tx, after)
        if not batch:
            return
        yield batch
        after = key_of(batch[-1])
