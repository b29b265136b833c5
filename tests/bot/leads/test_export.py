"""The export's reads: short batches by key, the next read only once a batch is used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.leads.export import lead_batches
from bot.leads.queries import LeadFilters, Scope
from bot.storage.database import Database
from tests.auxil.lead_rows import add_lead, counting_reads

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def test_batches_come_one_read_at_a_time_and_hold_every_lead_once(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.transaction() as tx:
        for number in range(5):
            # Two share a time: the batches part them by id.
            created_at = START + timedelta(minutes=min(number, 3))
            await add_lead(tx, f"lead{number}", created_at, site="poissy" if number == 2 else None)
    log: list[str] = []
    counting_reads(database, monkeypatch, log)
    seen: list[str] = []
    async for batch in lead_batches(database, LeadFilters(), Scope(), size=2):
        assert len(batch) <= 2
        log.append(f"batch of {len(batch)}")
        seen += [lead.id for lead in batch]
    assert seen == ["lead4", "lead3", "lead2", "lead1", "lead0"]
    # A read, then its batch handed over, before the next read: never two batches read ahead;
    # the last read finds nothing left.
    assert log == ["read", "batch of 2", "read", "batch of 2", "read", "batch of 1", "read"]

    log.clear()
    within = Scope(sites=("pantin",))
    batches = [b async for b in lead_batches(database, LeadFilters(), within, size=2)]
    assert [[lead.id for lead in batch] for batch in batches] == [
        ["lead4", "lead3"],
        ["lead1", "lead0"],
    ]
    assert log == ["read", "read", "read"]
