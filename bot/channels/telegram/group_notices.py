"""Groups told once to write to the bot privately (a group never gets a conversation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from bot.storage.database import Transaction
from bot.storage.models import TelegramGroupNotice


async def first_group_notice(tx: Transaction, chat_id: int, *, now: datetime) -> bool:
    """Remember that a group was told to write privately; True the first time only."""
    known = select(TelegramGroupNotice.chat_id).where(TelegramGroupNotice.chat_id == chat_id)
    if await tx.scalar(known) is not None:
        return False
    # The chat's lock is held (bot/messaging/processor.py): nobody inserts it meanwhile.
    await tx.run(insert(TelegramGroupNotice).values(chat_id=chat_id, answered_at=now))
    return True
