"""The conversation service on a fresh database, for the partners' figures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.storage.database import open_database


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[ConversationService]:
    database = open_database(database_url)
    conversations = ConversationService(database, FlowRegistry())
    await conversations.prepare()
    try:
        yield conversations
    finally:
        await database.close()
