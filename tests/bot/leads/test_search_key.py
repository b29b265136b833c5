"""Names found as counsellors type them: the key, and the leads recorded before it existed."""

from __future__ import annotations

import httpx
import pytest
from alembic import command
from fastapi import FastAPI

from bot.clock import utcnow
from bot.leads.queries import LeadFilters, Scope, search_leads
from bot.leads.search_key import MAX_KEY_LENGTH, search_key
from bot.storage.migrate import alembic_config
from tests.auxil.outside_loop import run_sql
from tests.auxil.personas import OTHER_ANSWERS, SAMIR_IN_PANTIN
from tests.auxil.web_chat import SESSION, drive, lead_of_session


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


def test_the_migration_gives_the_leads_already_there_their_key(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0006")
    run_sql(
        database_url,
        "INSERT INTO leads (id, created_at, updated_at, channel, language, first_name,"
        " human_requested, profile, orientation, programmes, status) VALUES ('old', :now, :now,"
        " 'web', 'fr', 'Inès', :no, '{}', '{}', ',', 'new')",
        {"now": utcnow(), "no": False},
    )
    command.upgrade(config, "head")
    [row] = run_sql(database_url, "SELECT first_name, first_name_key FROM leads")
    assert (row["first_name"], row["first_name_key"]) == ("Inès", "ines")


def test_the_migration_cuts_a_key_that_grows_past_its_column(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0006")
    name = "Ali " + "\ufdfa" * 56
    run_sql(
        database_url,
        "INSERT INTO leads (id, created_at, updated_at, channel, language, first_name,"
        " human_requested, profile, orientation, programmes, status) VALUES ('old', :now, :now,"
        " 'web', 'fr', :name, :no, '{}', '{}', ',', 'new')",
        {"now": utcnow(), "no": False, "name": name},
    )
    command.upgrade(config, "head")
    [row] = run_sql(database_url, "SELECT first_name, first_name_key FROM leads")
    assert row["first_name"] == name
    assert row["first_name_key"] == search_key(name)[:MAX_KEY_LENGTH]


async def test_a_name_whose_key_grows_is_recorded_and_found(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NFKD spells some characters out at length: U+FDFA is 18 letters. A first name of 60
    # of them overflowed the key's column on PostgreSQL, and the person's request was lost.
    name = "Ali " + "\ufdfa" * 56
    monkeypatch.setitem(OTHER_ANSWERS, "first_name", name)
    await drive(client, SAMIR_IN_PANTIN)
    lead_id = await lead_of_session(app.state.database, SESSION)
    async with app.state.database.transaction() as tx:
        found = await search_leads(tx, LeadFilters(query="ali"), Scope())
    assert [(lead.id, lead.first_name) for lead in found.leads] == [(lead_id, name)]
