"""Every lead of a filter, read batch by batch for an export that streams.

A hundred thousand leads read at once held the service for 25 s and 1.2 GB. Here each batch
is one short read of the (created_at, id) index from where the last one stopped, in a
transaction of its own: nothing else waits on a long one, and only one batch is held at a time
(the next is read once the caller has written this one out).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.leads.payload import LeadRecord
from bot.leads.queries import Cursor, LeadFilters, Scope, leads_older_than
from bot.storage.database import Database

# Leads per read: a few milliseconds of the database each, a few hundred kilobytes held.
BATCH = 500


async def lead_batches(
    database: Database, filters: LeadFilters, scope: Scope, *, size: int = BATCH
) -> AsyncIterator[list[LeadRecord]]:
    """The leads of a filter within a scope, newest first, ``size`` at a time.

    A lead written during the export, being newer than where it is, is not in it; one erased
    before its batch is read is left out.
    """
    cursor: Cursor | None = None
    while True:
        async with database.transaction() as tx:
            batch = await leads_older_than(tx, filters, scope, cursor, limit=size)
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        cursor = Cursor.of(batch[-1])
        # Let it go before the next read: the caller's rows are written out by now.
        del batch
