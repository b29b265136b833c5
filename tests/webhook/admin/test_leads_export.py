"""The CSV export streams: its header before any read, then each batch as it is read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from bot.leads.queries import LeadFilters, Scope
from bot.storage.database import Database
from tests.auxil.lead_rows import add_lead, counting_reads
from webhook.admin.leads import CSV_COLUMNS_STAFF, csv_chunks

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def test_the_first_bytes_go_out_before_any_read_and_each_batch_as_read(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.transaction() as tx:
        for number in range(5):
            await add_lead(
                tx, f"lead{number}", START + timedelta(minutes=number), first_name="=Inès"
            )
    log: list[str] = []
    counting_reads(database, monkeypatch, log)
    chunks = csv_chunks(database, LeadFilters(), Scope(), CSV_COLUMNS_STAFF, "fr", batch_size=2)
    body = b""
    async for chunk in chunks:
        log.append(f"chunk of {len(chunk.splitlines())} lines")
        body += chunk
    # The header before the first read; the last batch read after the first rows went out.
    assert log == [
        "chunk of 1 lines",
        "read", "chunk of 2 lines",
        "read", "chunk of 2 lines",
        "read", "chunk of 1 lines",
        "read",
    ]  # fmt: skip
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert [row["id"] for row in rows] == ["lead4", "lead3", "lead2", "lead1", "lead0"]
    # What the export did before streaming stays: formulas kept as text.
    assert {row["first_name"] for row in rows} == {"'=Inès"}
