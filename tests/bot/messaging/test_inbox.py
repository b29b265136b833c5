"""The inbox's one statement per message, on SQLite and PostgreSQL: stored and taken at once,
waiting behind an older delivery of its chat, or recognised as seen."""

from __future__ import annotations

import pytest

from bot.messaging import inbox
from bot.messaging.inbox import Delivery
from bot.storage.database import Database

pytestmark = pytest.mark.db


def _delivery(channel: str, delivery_id: str, position: int) -> Delivery:
    return Delivery(channel, delivery_id, position, {"id": delivery_id})


@pytest.mark.parametrize("channel", ["telegram", "whatsapp"])
async def test_a_delivery_is_taken_at_once_then_recognised(
    database: Database, channel: str
) -> None:
    first = _delivery(channel, "wamid.A", 1000)
    async with database.transaction() as tx:
        # The whole statement runs (a failure here would fall back to the slow path).
        assert await inbox.accept_in_turn(tx, first, 336, then=None) == (True, None)
    async with database.transaction() as tx:
        assert await inbox.accept_in_turn(tx, first, 336) == (None, None)


async def test_a_delivery_waits_behind_an_older_pending_one_of_its_chat(
    database: Database,
) -> None:
    async with database.transaction() as tx:
        await inbox.accept(tx, _delivery("whatsapp", "wamid.old", 1000), 336, processed=False)
    async with database.transaction() as tx:
        taken, _ = await inbox.accept_in_turn(tx, _delivery("whatsapp", "wamid.new", 2000), 336)
        # Another channel's chat of the same number does not wait.
        other, _ = await inbox.accept_in_turn(tx, _delivery("telegram", "9", 2000), 336)
    assert (taken, other) == (False, True)
