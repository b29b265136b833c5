"""A large export reads every row once, in short batches, while the steps go on writing."""

from __future__ import annotations

from bot.storage.database import Database, Row, Transaction
from bot.storage.paging import batches_by_key

BATCH = 40


async def _notes(database: Database, ids: range) -> None:
    async with database.transaction() as tx:
        await tx.insert_rows("note", [{"id": n, "body": f"note {n}"} for n in ids])


async def _batch(tx: Transaction, after: int | None) -> list[Row]:
    return await tx.fetch(
        "SELECT id, body FROM note WHERE id < :after ORDER BY id DESC LIMIT :size",
        {"after": after if after is not None else 10**9, "size": BATCH},
    )


async def test_every_row_comes_once_newest_first_in_batches(database: Database) -> None:
    async with database.transaction() as tx:
        await tx.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    await _notes(database, range(1, 101))
    seen: list[int] = []
    sizes: list[int] = []
    async for batch in batches_by_key(database, _batch, lambda row: int(row["id"])):
        sizes.append(len(batch))
        seen += [int(row["id"]) for row in batch]
        if len(seen) == BATCH:
            await _notes(database, range(101, 111))  # newer than the export's first row
    assert seen == list(range(100, 0, -1))
    assert sizes == [BATCH, BATCH, 100 - 2 * BATCH]
