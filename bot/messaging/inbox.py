"""The inbox: every update stored once on arrival, then claimed one chat at a time.

This module alone reads and writes the inbox table (``telegram_updates``). It is on the hot
path (an update is stored and taken in the transaction that applies it), so its statements
are SQL text on the driver layer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.clock import utcnow
from bot.storage.database import Params, Row, Transaction
from bot.storage.values import as_json

# An update waits while an older update of its chat is still pending.
_NO_EARLIER_PENDING = (
    "NOT EXISTS (SELECT 1 FROM telegram_updates earlier WHERE earlier.processed_at IS NULL"
    " AND earlier.chat_id = telegram_updates.chat_id"
    " AND earlier.update_id < telegram_updates.update_id)"
)


async def accept(
    tx: Transaction, update: dict[str, Any], chat_id: int | None, *, processed: bool
) -> bool:
    """Store an update unless its id was seen already; True when it is new.

    ``processed`` marks it taken by this transaction (which applies it); an update about no
    chat needs no processing, but its id is still remembered.
    """
    now = utcnow()
    return bool(
        await tx.execute(
            "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at,"
            " processed_at, attempts) VALUES (:update_id, :chat_id, :payload, :now,"
            " :processed_at, :attempts) ON CONFLICT DO NOTHING",
            {
                "update_id": update["update_id"],
                "chat_id": chat_id,
                "payload": update,
                "now": now,
                "processed_at": now if processed or chat_id is None else None,
                "attempts": 1 if processed else 0,
            },
        )
    )


async def accept_in_turn(
    tx: Transaction,
    update: dict[str, Any],
    chat_id: int,
    *,
    then: tuple[str, Params] | None = None,
) -> tuple[bool | None, Row | None]:
    """Store an update of a chat, taken by this transaction unless an older one is waiting.

    First: None when the update was seen before; True when it is stored taken (apply it now);
    False when it must wait its turn. Second: the row of ``then``, a query of one row at most
    (the chat's conversation), run after the insert. On PostgreSQL both go as one statement:
    this runs for every message people send, and a round trip costs more CPU than the SQL.
    """
    now = utcnow()
    insert = (
        "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at, processed_at,"
        " attempts) VALUES (:update_id, :chat_id, :payload, :now, CASE WHEN EXISTS ("
        "SELECT 1 FROM telegram_updates WHERE processed_at IS NULL AND chat_id = :chat_id"
        " AND update_id < :update_id) THEN NULL ELSE " + tx.timestamp("now") + " END, 1)"
        " ON CONFLICT DO NOTHING RETURNING processed_at"
    )
    params = {"update_id": update["update_id"], "chat_id": chat_id, "payload": update, "now": now}
    if then is not None and tx.combines_statements:
        query, query_params = then
        # The query's snapshot is the statement's, taken after the chat's lock; FOR UPDATE in
        # it still locks the row. No row at all: the update was seen before.
        row = await tx.fetch_one(
            f"WITH _taken AS ({insert}), _then AS ({query}) SELECT _taken.processed_at"
            " AS _taken_at, _then.* FROM _taken LEFT JOIN _then ON TRUE",
            {**params, **query_params},
        )
        if row is None:
            return None, None
        taken = row.pop("_taken_at") is not None
        return taken, row if any(value is not None for value in row.values()) else None
    inserted = await tx.fetch_one(insert, params)
    if inserted is None:
        return None, None
    found = await tx.fetch_one(*then) if then is not None else None
    return inserted["processed_at"] is not None, found


async def next_batch(tx: Transaction, limit: int) -> list[int]:
    """Ids of updates that can be processed now: the oldest pending one of each chat."""
    rows = await tx.fetch(
        "SELECT update_id FROM telegram_updates WHERE processed_at IS NULL AND "
        + _NO_EARLIER_PENDING
        + " ORDER BY update_id LIMIT :limit",
        {"limit": limit},
    )
    return [row["update_id"] for row in rows]


async def claim(tx: Transaction, update_id: int) -> bool:
    """Take a pending update for this transaction, if no older update of its chat is pending.

    One statement marks it processed: should the transaction fail, the mark goes with it. On
    PostgreSQL a second worker waits on the row, then finds it processed; on SQLite the write
    takes the database's write lock, with the same effect.
    """
    taken = await tx.execute(
        "UPDATE telegram_updates SET processed_at = :now, attempts = attempts + 1"
        " WHERE update_id = :update_id AND processed_at IS NULL AND " + _NO_EARLIER_PENDING,
        {"now": utcnow(), "update_id": update_id},
    )
    return bool(taken)


async def payloads(tx: Transaction, update_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The stored updates, for a worker that did not receive them itself."""
    found: dict[int, dict[str, Any]] = {}
    for update_id in update_ids:
        row = await tx.fetch_one(
            "SELECT payload FROM telegram_updates WHERE update_id = :update_id",
            {"update_id": update_id},
        )
        if row is not None:
            found[update_id] = as_json(row["payload"])
    return found


async def count_failure(tx: Transaction, update_id: int, *, max_attempts: int) -> bool:
    """Count a failed try; after ``max_attempts`` the update is set aside. True if set aside."""
    await tx.execute(
        "UPDATE telegram_updates SET attempts = attempts + 1 WHERE update_id = :update_id",
        {"update_id": update_id},
    )
    return bool(
        await tx.execute(
            "UPDATE telegram_updates SET processed_at = :now"
            " WHERE update_id = :update_id AND attempts >= :max_attempts",
            {"now": utcnow(), "update_id": update_id, "max_attempts": max_attempts},
        )
    )


async def purge(tx: Transaction, *, received_before: datetime) -> int:
    """Erase processed updates received before then, past their retention; how many."""
    return await tx.execute(
        "DELETE FROM telegram_updates WHERE processed_at IS NOT NULL AND received_at < :before",
        {"before": received_before},
    )


async def forget_payloads(tx: Transaction, chat_id: int) -> None:
    """Erase what a person sent (ids stay, so that a retried delivery is still recognised)."""
    await tx.execute(
        "UPDATE telegram_updates SET payload = :empty WHERE chat_id = :chat_id",
        {"empty": {}, "chat_id": chat_id},
    )


# Album parts arrive back to back; other chats' updates in between are far fewer than this.
_ALBUM_LOOKBACK = 1000


async def previous_album(tx: Transaction, chat_id: int, update_id: int) -> str | None:
    """The album (``media_group_id``) the chat's previous update belonged to, if any.

    Read only for album parts (rare); the id range keeps it a short scan of the primary key.
    """
    row = await tx.fetch_one(
        "SELECT payload FROM telegram_updates WHERE chat_id = :chat_id"
        " AND update_id < :update_id AND update_id >= :oldest"
        " ORDER BY update_id DESC LIMIT 1",
        {"chat_id": chat_id, "update_id": update_id, "oldest": update_id - _ALBUM_LOOKBACK},
    )
    if row is None:
        return None
    message = as_json(row["payload"]).get("message")
    album = message.get("media_group_id") if isinstance(message, dict) else None
    return album if isinstance(album, str) else None
