"""The admin list's pages by key, and its search from what counsellors type, on an index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, select

from bot.leads.queries import Cursor, LeadFilters, Scope, phone_prefixes, search_leads
from bot.storage.core import compile_statement
from bot.storage.database import Database
from bot.storage.models import Lead
from tests.auxil.lead_rows import add_lead

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def seven_leads(database: Database) -> list[str]:
    """Seven leads, three of them made in the same microsecond; their ids newest first."""
    times = [START + timedelta(minutes=n) for n in (0, 1, 2, 2, 2, 3, 4)]
    async with database.transaction() as tx:
        for number, created_at in enumerate(times):
            await add_lead(tx, f"lead{number}", created_at)
    # Newest first; ties by id, the greater first.
    return ["lead6", "lead5", "lead4", "lead3", "lead2", "lead1", "lead0"]


async def test_pages_by_key_show_every_lead_once_both_ways(database: Database) -> None:
    newest_first = await seven_leads(database)
    pages: list[list[str]] = []
    async with database.transaction() as tx:
        page = await search_leads(tx, LeadFilters(), Scope(), page_size=3)
        assert page.newer is None
        while True:
            pages.append([lead.id for lead in page.leads])
            assert page.total == 7
            if page.older is None:
                break
            page = await search_leads(
                tx, LeadFilters(), Scope(), older_than=page.older, page_size=3
            )
        assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:]]
        back: list[list[str]] = []
        while page.newer is not None:
            page = await search_leads(
                tx, LeadFilters(), Scope(), newer_than=page.newer, page_size=3
            )
            back.append([lead.id for lead in page.leads])
    assert back == [newest_first[3:6], newest_first[0:3]]


async def test_a_made_up_cursor_shows_only_what_the_scope_allows(database: Database) -> None:
    async with database.transaction() as tx:
        await add_lead(tx, "pantin1", START, site="pantin")
        await add_lead(tx, "poissy1", START + timedelta(minutes=1), site="poissy")
        await add_lead(tx, "nosite1", START + timedelta(minutes=2), site=None)
        beyond = Cursor(START + timedelta(days=1), "zzzz")
        page = await search_leads(tx, LeadFilters(), Scope(sites=("pantin",)), older_than=beyond)
    assert [lead.id for lead in page.leads] == ["nosite1", "pantin1"]
    assert page.total == 2


@pytest.mark.parametrize(
    "token",
    ["", "x", "12", "12.", ".lead1", "12.lead 1", "12.a/b", "1.2.3", "99999999999999999999.a",
     "-99999999999999999.a", "12.\x00", "12." + "a" * 33],
)  # fmt: skip
def test_a_malformed_cursor_is_no_cursor(token: str) -> None:
    assert Cursor.parse(token) is None


def test_a_cursor_reads_back_as_written() -> None:
    cursor = Cursor(datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC), "0a1b2c")
    assert Cursor.parse(cursor.token()) == cursor


@pytest.mark.parametrize(
    ("typed", "starts"),
    [
        ("06 12 34", ["+3361234"]),
        ("06.12.34.56.78", ["+33612345678"]),
        ("+33 6 12 34", ["+3361234"]),
        ("0033 6 12", ["+33612"]),
        ("+44 7911 123", ["+447911123"]),
        ("6 12 34", ["+3361234", "+61234"]),
        ("061", []),
    ],
)
def test_a_phone_is_searched_as_people_type_it(typed: str, starts: list[str]) -> None:
    assert phone_prefixes(typed) == starts


async def test_the_search_finds_the_start_of_a_first_name_or_a_phone(database: Database) -> None:
    async with database.transaction() as tx:
        await add_lead(tx, "ines", START, first_name="Inès-Marie", phone="+33612345678")
        await add_lead(tx, "jean", START, first_name="Jean Inès", phone="+447911123456")

        async def found(typed: str) -> set[str]:
            page = await search_leads(tx, LeadFilters(query=typed), Scope())
            return {lead.id for lead in page.leads}

        assert await found("INÈS") == {"ines"}
        assert await found("ines-m") == {"ines"}
        assert await found("jean i") == {"jean"}
        assert await found("06 12 34") == {"ines"}
        assert await found("+33 6 12 34 56 78") == {"ines"}
        assert await found("0044 7911") == {"jean"}
        assert await found("44 7911 12") == {"jean"}
        # From the start: the middle of a name or of a number is not searched.
        assert await found("marie") == set()
        assert await found("34 56 78") == set()
        assert await found("%") == set()


async def plan(
    database: Database, statement: Select[Any], last_resorts: tuple[str, ...] = ("seqscan",)
) -> str:
    """How the database would run a statement, with a table scan (or on PostgreSQL other
    ``last_resorts``) made the last resort: the tables here are too small for a planner to
    prefer an index on its own, so the plan says whether an index can serve it at all."""
    compiled = compile_statement(statement, database.dialect)
    async with database.transaction() as tx:
        if database.dialect == "postgresql":
            for method in last_resorts:
                await tx.execute(f"SET LOCAL enable_{method} = off")
            rows = await tx.fetch("EXPLAIN " + compiled.sql, compiled.params)
        else:
            rows = await tx.fetch("EXPLAIN QUERY PLAN " + compiled.sql, compiled.params)
    return "\n".join(str(list(row.values())[-1]) for row in rows)


@pytest.mark.parametrize(
    ("typed", "index"),
    [("Inès", "ix_leads_first_name_key"), ("06 12 34", "ix_leads_phone")],
)
async def test_the_search_reads_an_index(database: Database, typed: str, index: str) -> None:
    conditions = LeadFilters(query=typed).conditions(Scope())
    assert index in await plan(database, select(Lead.id).where(*conditions))


async def test_a_page_after_a_cursor_is_one_range_of_the_index(database: Database) -> None:
    cursor = Cursor(START, "lead1")
    statement = (
        select(Lead.id)
        .where(cursor.older())
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(26)
    )
    # In the index's order: no sort, and on PostgreSQL no bitmap (which loses the order).
    shown = await plan(database, statement, ("seqscan", "bitmapscan", "sort"))
    assert "ix_leads_created_at_id" in shown
    assert "TEMP B-TREE" not in shown
    assert "Sort" not in shown
