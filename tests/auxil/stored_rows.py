"""What the service stored, read back by tests through the product's one way to the database.

Tests check what a person would notice in the rows (a referral code kept, a reminder
scheduled, an update applied once); these few readers keep those queries in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from bot.storage.database import Database
from bot.storage.models import Base, Conversation, InboxUpdate


@dataclass(frozen=True)
class ConversationRow:
    """The columns of a conversation that tests look at."""

    referrer_code: str | None
    status: str
    state: dict[str, Any]
    unreachable_at: datetime | None
    remind_at: datetime | None
    close_at: datetime | None


async def conversation_row(
    database: Database, external_id: str | None = None
) -> ConversationRow | None:
    """The conversation of ``external_id`` (any channel), or the first one when not given."""
    statement = select(
        Conversation.referrer_code,
        Conversation.status,
        Conversation.state,
        Conversation.unreachable_at,
        Conversation.remind_at,
        Conversation.close_at,
    )
    if external_id is not None:
        statement = statement.where(Conversation.external_id == external_id)
    async with database.transaction() as tx:
        row = await tx.first(statement)
    return ConversationRow(*row) if row is not None else None


@dataclass(frozen=True)
class UpdateRow:
    """How far a stored Telegram update went."""

    processed_at: datetime | None
    attempts: int


async def telegram_update_row(database: Database, update_id: int) -> UpdateRow | None:
    """The stored Telegram update ``update_id``, or None when it was not kept."""
    async with database.transaction() as tx:
        row = await tx.first(
            select(InboxUpdate.processed_at, InboxUpdate.attempts).where(
                InboxUpdate.channel == "telegram", InboxUpdate.delivery_id == str(update_id)
            )
        )
    return UpdateRow(*row) if row is not None else None


async def count_rows(database: Database, model: type[Base], *where: ColumnElement[bool]) -> int:
    """How many rows of ``model``'s table match every condition in ``where``."""
    async with database.transaction() as tx:
        count = await tx.scalar(select(func.count()).select_from(model).where(*where))
    assert count is not None  # COUNT always answers one row
    return count
