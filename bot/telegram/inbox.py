"""The inbox of Telegram updates: stored once on arrival, claimed one chat at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy import update as sa_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import TelegramUpdate
from bot.storage.queues import earlier_pending_in_chat
from bot.storage.types import utcnow


def chat_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to, if any."""
    for key in ("message", "edited_message", "my_chat_member"):
        if isinstance(update.get(key), dict):
            chat_id = (update[key].get("chat") or {}).get("id")
            return chat_id if isinstance(chat_id, int) else None
    query = update.get("callback_query")
    if isinstance(query, dict):
        chat_id = ((query.get("message") or {}).get("chat") or {}).get("id")
        return chat_id if isinstance(chat_id, int) else None
    return None


async def accept(session: AsyncSession, update: dict[str, Any]) -> bool:
    """Store an update unless its id was seen already; True when it is new."""
    chat_id = chat_of(update)
    values = {
        "update_id": update["update_id"],
        "chat_id": chat_id,
        "payload": update,
        "received_at": utcnow(),
        "attempts": 0,
        # An update about no chat needs no processing, but its id is still remembered.
        "processed_at": None if chat_id is not None else utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(TelegramUpdate).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def next_batch(session: AsyncSession, limit: int) -> list[int]:
    """Ids of updates that can be processed now: the oldest pending one of each chat."""
    blocked = earlier_pending_in_chat(
        TelegramUpdate, TelegramUpdate.update_id, TelegramUpdate.processed_at
    )
    rows = await session.scalars(
        select(TelegramUpdate.update_id)
        .where(and_(TelegramUpdate.processed_at.is_(None), ~blocked))
        .order_by(TelegramUpdate.update_id)
        .limit(limit)
    )
    return list(rows)


async def claim(session: AsyncSession, update_id: int) -> bool:
    """Take a pending update for this transaction, if no older update of its chat is pending.

    One statement marks it processed: should the transaction fail, the mark goes with it. On
    PostgreSQL a second worker waits on the row, then finds it processed; on SQLite the write
    takes the database's write lock, with the same effect.
    """
    blocked = earlier_pending_in_chat(
        TelegramUpdate, TelegramUpdate.update_id, TelegramUpdate.processed_at
    )
    taken = await session.execute(
        sa_update(TelegramUpdate)
        .where(
            TelegramUpdate.update_id == update_id,
            TelegramUpdate.processed_at.is_(None),
            ~blocked,
        )
        .values(processed_at=utcnow(), attempts=TelegramUpdate.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0))


async def payloads(session: AsyncSession, update_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The stored updates, for a worker that did not receive them itself."""
    rows = await session.execute(
        select(TelegramUpdate.update_id, TelegramUpdate.payload).where(
            TelegramUpdate.update_id.in_(update_ids)
        )
    )
    return {update_id: payload for update_id, payload in rows}
