"""``aiguillage funnel rebuild``: the stored stages computed again, and said so."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.storage.database import open_database
from bot.storage.models import Conversation
from tests.auxil.funnel_data import converse
from webhook.cli import main


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", database_url)


async def _two_people_without_stages(database_url: str) -> str:
    """Two conversations as after migration 0012 (no stage yet); the oriented one's id."""
    database = open_database(database_url)
    try:
        service = ConversationService(database, FlowRegistry())
        await service.prepare()
        oriented = await converse(
            service, "oriented", answers={"contact_consent": {"choice": "no"}}
        )
        await converse(service, "age", stop_at="postal_code")
        async with database.transaction() as tx:
            await tx.run(update(Conversation).values(state_stage=None, funnel_stage=None))
        return oriented
    finally:
        await database.close()


async def _stage(database_url: str, conversation_id: str) -> str | None:
    database = open_database(database_url)
    try:
        async with database.transaction() as tx:
            return await tx.scalar(
                select(Conversation.funnel_stage).where(Conversation.id == conversation_id)
            )
    finally:
        await database.close()


def test_rebuild_computes_the_stages_once(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    oriented = asyncio.run(_two_people_without_stages(database_url))

    assert main(["funnel", "rebuild"]) == 0
    assert "computed the funnel stage of 2 conversations" in capsys.readouterr().out
    assert asyncio.run(_stage(database_url, oriented)) == "orientation"
    assert main(["funnel", "rebuild"]) == 0
    assert "the funnel stages were up to date" in capsys.readouterr().out
