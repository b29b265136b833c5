"""A burst of many chats: the replies wait in the outbox, not as tasks, and each goes out once,
in order per chat."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from bot.storage.database import Database
from bot.storage.models import OutboxMessage
from tests.auxil import telegram_updates as tg
from tests.auxil.telegram_harness import ClockedTelegram

REFERENCE_CHAT = 5558000
FIRST_CHAT = 5559000
CHATS = 60
# Steps' replies sent at once, at most, in this test (the service allows two seconds' worth).
AT_ONCE = 10


def _conversation(chat_id: int) -> list[dict[str, Any]]:
    """A person's first steps: each causes replies, a press answered as well."""
    return [
        tg.message(chat_id, "/start"),
        tg.press(chat_id, "c|consent|yes"),
        tg.press(chat_id, "c|asker|self"),
        tg.message(chat_id, "19"),
    ]


def _written_to(h: ClockedTelegram, chat_id: int) -> list[tuple[str, Any]]:
    """What the chat was sent, in order: each call's method and text."""
    return [
        (method, params.get("text"))
        for method, params, _ in h.recorder.stamped
        if params.get("chat_id") == chat_id
    ]


async def _unleased_rows(h: ClockedTelegram) -> int:
    database: Database = h.app.state.database
    async with database.transaction() as tx:
        return int(
            await tx.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.lease_until.is_(None))
            )
        )


async def _send_everything(h: ClockedTelegram) -> None:
    """What the background jobs do, until nothing is left."""
    pipeline = h.runtime.pipeline
    while True:
        await pipeline.processor.drain()
        await pipeline.sender.flush()
        if not await pipeline.sender.send_pending() and not await _unleased_rows(h):
            return


async def test_a_burst_waits_in_the_outbox_and_every_reply_goes_once_in_order(
    clocked: ClockedTelegram,
) -> None:
    for update in _conversation(REFERENCE_CHAT):
        await clocked.clock.run(clocked.runtime.accept(update))
    expected = _written_to(clocked, REFERENCE_CHAT)
    assert len(expected) >= 4

    processor, sender = clocked.runtime.pipeline.processor, clocked.runtime.pipeline.sender
    processor.delivering_at_most = AT_ONCE
    chats = [FIRST_CHAT + n for n in range(CHATS)]
    conversations = {chat: _conversation(chat) for chat in chats}
    tasks_before = len(asyncio.all_tasks())
    # Telegram asked us to slow down: the replies being sent wait for the pace.
    sender.pace.pause(100)
    for chat in chats:
        await processor.accept(conversations[chat][0])
    # A task for each step sent at once, not one per chat: the others wait as rows.
    assert len(asyncio.all_tasks()) - tasks_before <= AT_ONCE + 1
    assert await _unleased_rows(clocked) >= CHATS - AT_ONCE

    await clocked.clock.run(processor.drain())
    # The next steps, newest chats first: those whose welcome still waits for the loop must
    # not get their next reply before it, whichever way it is sent.
    for step in range(1, 4):
        sender.pace.pause(2)
        for chat in reversed(chats):
            await processor.accept(conversations[chat][step])
        assert len(asyncio.all_tasks()) - tasks_before <= AT_ONCE + 1
    await clocked.clock.run(_send_everything(clocked))

    for chat in chats:
        assert _written_to(clocked, chat) == expected, chat
