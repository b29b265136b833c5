"""Names found as counsellors type them: the key, and the leads recorded before it existed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic import command

from bot.leads.search_key import search_key
from bot.storage.migrate import alembic_config
from bot.storage.raw import open_raw_database
from bot.storage.types import utcnow


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Inès", "ines"),
        ("INÈS", "ines"),
        ("Ine\u0300s", "ines"),  # decomposed: e + combining grave accent
        ("Lætitia-Éloïse", "laetitia-eloise"),
        ("Cœur", "coeur"),
        ("François", "francois"),
        ("Ngọc Ánh", "ngoc anh"),
    ],
)
def test_the_key_has_no_accent_no_case_and_spells_ligatures_out(name: str, key: str) -> None:
    assert search_key(name) == key


def _run(database_url: str, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    async def go() -> list[Any]:
        database = open_raw_database(database_url)
        try:
            async with database.transaction() as tx:
                if sql.startswith("SELECT"):
                    return await tx.fetch(sql, params or {})
                await tx.execute(sql, params or {})
                return []
        finally:
            await database.close()

    return asyncio.run(go())


def test_the_migration_gives_the_leads_already_there_their_key(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0006")
    _run(
        database_url,
        "INSERT INTO leads (id, created_at, updated_at, channel, language, first_name,"
        " human_requested, profile, orientation, programmes, status) VALUES ('old', :now, :now,"
        " 'web', 'fr', 'Inès', :no, '{}', '{}', ',', 'new')",
        {"now": utcnow(), "no": False},
    )
    command.upgrade(config, "head")
    [row] = _run(database_url, "SELECT first_name, first_name_key FROM leads")
    assert (row["first_name"], row["first_name_key"]) == ("Inès", "ines")
