"""The outbox: one table for every messenger, each chat's calls in order within its channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.messaging import outbox
from bot.messaging.outbox import ApiCall, Released, RetryLater, Sent
from bot.storage.database import Database

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CHAT = 42


def say(text: str) -> ApiCall:
    return ApiCall("sendMessage", {"chat_id": CHAT, "text": text})


async def test_a_steps_calls_come_back_leased_in_their_order_even_when_alike(
    database: Database,
) -> None:
    calls = [say("a"), say("b"), say("a"), ApiCall("sendChatAction", {"chat_id": CHAT})]
    async with database.transaction() as tx:
        queued = await outbox.enqueue_leased(tx, "telegram", CHAT, calls, now=NOW)
    assert [(m.method, m.payload) for m in queued] == [(c.method, c.payload) for c in calls]
    assert [m.id for m in queued] == sorted(m.id for m in queued)
    assert all(m.lease_until == NOW + outbox.LEASE for m in queued)
    # Leased to this process: the loop leaves them alone until the lease runs out.
    assert await outbox.due_ids(database, "telegram", now=NOW, limit=10) == []
    later = NOW + outbox.LEASE + timedelta(seconds=1)
    assert await outbox.due_ids(database, "telegram", now=later, limit=10) == [queued[0].id]


async def test_each_channel_sends_its_own_calls_and_keeps_its_own_order(
    database: Database,
) -> None:
    async with database.transaction() as tx:
        await outbox.enqueue(tx, "whatsapp", [say("wa 1"), say("wa 2")], now=NOW)
        await outbox.enqueue(tx, "telegram", [say("tg 1")], now=NOW)
    telegram = await outbox.due_ids(database, "telegram", now=NOW, limit=10)
    whatsapp = await outbox.due_ids(database, "whatsapp", now=NOW, limit=10)
    # The same chat number on two messengers is two chats: neither waits for the other.
    assert len(telegram) == 1
    assert len(whatsapp) == 1  # its second call waits for its first
    message = await outbox.claim(database, telegram[0], now=NOW)
    assert message is not None
    assert (message.channel, message.payload["text"]) == ("telegram", "tg 1")
    assert await outbox.claim(database, telegram[0], now=NOW) is None  # leased: taken once


async def test_outcomes_are_written_only_by_the_lease_holder(database: Database) -> None:
    async with database.transaction() as tx:
        await outbox.enqueue(tx, "telegram", [say("one"), say("two")], now=NOW)
    [first] = await outbox.due_ids(database, "telegram", now=NOW, limit=10)
    taken = await outbox.claim(database, first, now=NOW)
    assert taken is not None
    async with database.transaction() as tx:
        await outbox.record(tx, [(taken, RetryLater(NOW + timedelta(seconds=5)))])
    # Not sent: the chat's next call still waits behind it, which falls due in 5 s.
    assert await outbox.due_ids(database, "telegram", now=NOW, limit=10) == []
    assert await outbox.next_due(database, "telegram", now=NOW) == NOW + timedelta(seconds=5)
    soon = NOW + timedelta(seconds=5)
    again = await outbox.claim(database, first, now=soon)
    assert again is not None
    async with database.transaction() as tx:
        # The first claim's outcome comes too late: the row is someone else's now.
        await outbox.record(tx, [(taken, Released())])
        await outbox.record(tx, [(again, Sent(soon))])
    [second] = await outbox.due_ids(database, "telegram", now=soon, limit=10)
    assert second != first
