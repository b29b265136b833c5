"""Leads written straight into the table, many at once and at chosen times (paging, search,
export), without a conversation each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import pytest
from sqlalchemy import insert

from bot.leads.search_key import search_key
from bot.storage.database import Database, Transaction
from bot.storage.models import Lead


async def add_lead(
    tx: Transaction,
    lead_id: str,
    created_at: datetime,
    *,
    site: str | None = "pantin",
    first_name: str | None = None,
    phone: str | None = None,
    referrer_code: str | None = None,
) -> None:
    """A new lead as the admin list reads it (no history, no conversation)."""
    await tx.run(
        insert(Lead).values(
            id=lead_id,
            created_at=created_at,
            updated_at=created_at,
            channel="web",
            language="fr",
            site=site,
            first_name=first_name,
            first_name_key=search_key(first_name) if first_name else None,
            phone=phone,
            referrer_code=referrer_code,
            human_requested=False,
            profile={},
            orientation={},
            programmes=",",
            status="new",
        )
    )


def counting_reads(database: Database, monkeypatch: pytest.MonkeyPatch, log: list[str]) -> None:
    """Log "read" for each read-only block the database opens from now on (a batch's read)."""
    opened = database.reading

    @asynccontextmanager
    async def reading() -> AsyncIterator[Transaction]:
        log.append("read")
        async with opened() as tx:
            yield tx

    monkeypatch.setattr(database, "reading", reading)
