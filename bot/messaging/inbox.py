"""The inbox: every delivery stored once on arrival, then claimed one chat at a time.

This module alone reads and writes the inbox table (``inbox_updates``), for every messenger:
a delivery is keyed by its channel and the messenger's own id (``Delivery``), and one chat's
deliveries are applied in the order of their ``position``. It is on the hot path (a delivery
is stored and taken in the transaction that applies it), so its statements are SQL text on the
driver layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import utcnow
from bot.storage.database import Params, Row, Transaction
from bot.storage.values import as_json

# A delivery waits while an older delivery of its chat is still pending.
_NO_EARLIER_PENDING = (
    "NOT EXISTS (SELECT 1 FROM inbox_updates earlier WHERE earlier.processed_at IS NULL"
    " AND earlier.channel = inbox_updates.channel AND earlier.chat_id = inbox_updates.chat_id"
    " AND earlier.position < inbox_updates.position)"
)


@dataclass(frozen=True)
class Delivery:
    """One thing a messenger delivered: its id there, its place in its chat, and its content."""

    channel: str
    id: str
    position: int
    payload: dict[str, Any]


async def accept(
    tx: Transaction, delivery: Delivery, chat_id: int | None, *, processed: bool
) -> bool:
    """Store a delivery unless its id was seen already; True when it is new.

    ``processed`` marks it taken by this transaction (which applies it); a delivery about no
    chat needs no processing, but its id is still remembered.
    """
    now = utcnow()
    return bool(
        await tx.execute(
            "INSERT INTO inbox_updates (channel, delivery_id, chat_id, position, payload,"
            " received_at, processed_at, attempts) VALUES (:channel, :delivery_id, :chat_id,"
            " :position, :payload, :now, :processed_at, :attempts) ON CONFLICT DO NOTHING",
            {
                **_key(delivery),
                "chat_id": chat_id,
                "payload": delivery.payload,
                "now": now,
                "processed_at": now if processed or chat_id is None else None,
                "attempts": 1 if processed else 0,
            },
        )
    )


def _key(delivery: Delivery) -> dict[str, Any]:
    return {
        "channel": delivery.channel,
        "delivery_id": delivery.id,
        "position": delivery.position,
    }


async def accept_in_turn(
    tx: Transaction,
    delivery: Delivery,
    chat_id: int,
    *,
    then: tuple[str, Params] | None = None,
) -> tuple[bool | None, Row | None]:
    """Store a delivery of a chat, taken by this transaction unless an older one is waiting.

    First: None when the delivery was seen before; True when it is stored taken (apply it
    now); False when it must wait its turn. Second: the row of ``then``, a query of one row at
    most (the chat's conversation), run after the insert. On PostgreSQL both go as one
    statement: this runs for every message people send, and a round trip costs more CPU than
    the SQL.
    """
    now = utcnow()
    insert = (
        "INSERT INTO inbox_updates (channel, delivery_id, chat_id, position, payload,"
        " received_at, processed_at, attempts) VALUES (:channel, :delivery_id, :chat_id,"
        " :position, :payload, :now, CASE WHEN EXISTS (SELECT 1 FROM inbox_updates"
        # The cast: PostgreSQL would type the second :channel as text, the first as varchar.
        " WHERE processed_at IS NULL AND channel = CAST(:channel AS VARCHAR(16))"
        " AND chat_id = :chat_id"
        " AND position < :position) THEN NULL ELSE " + tx.timestamp("now") + " END, 1)"
        " ON CONFLICT DO NOTHING RETURNING processed_at"
    )
    params = {**_key(delivery), "chat_id": chat_id, "payload": delivery.payload, "now": now}
    if then is not None and tx.combines_statements:
        query, query_params = then
        # The query's snapshot is the statement's, taken after the chat's lock; FOR UPDATE in
        # it still locks the row. No row at all: the delivery was seen before.
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


async def next_batch(tx: Transaction, channel: str, limit: int) -> list[str]:
    """Ids of a channel's deliveries that can be processed now: each chat's oldest pending."""
    rows = await tx.fetch(
        "SELECT delivery_id FROM inbox_updates WHERE processed_at IS NULL"
        " AND channel = :channel AND " + _NO_EARLIER_PENDING + " ORDER BY position LIMIT :limit",
        {"channel": channel, "limit": limit},
    )
    return [row["delivery_id"] for row in rows]


async def claim(tx: Transaction, channel: str, delivery_id: str) -> bool:
    """Take a pending delivery for this transaction, if no older one of its chat is pending.

    One statement marks it processed: should the transaction fail, the mark goes with it. On
    PostgreSQL a second worker waits on the row, then finds it processed; on SQLite the write
    takes the database's write lock, with the same effect.
    """
    taken = await tx.execute(
        "UPDATE inbox_updates SET processed_at = :now, attempts = attempts + 1"
        " WHERE channel = :channel AND delivery_id = :delivery_id AND processed_at IS NULL"
        " AND " + _NO_EARLIER_PENDING,
        {"now": utcnow(), "channel": channel, "delivery_id": delivery_id},
    )
    return bool(taken)


async def payloads(tx: Transaction, channel: str, ids: list[str]) -> dict[str, Delivery]:
    """The stored deliveries, for a worker that did not receive them itself."""
    found: dict[str, Delivery] = {}
    for delivery_id in ids:
        row = await tx.fetch_one(
            "SELECT position, payload FROM inbox_updates"
            " WHERE channel = :channel AND delivery_id = :delivery_id",
            {"channel": channel, "delivery_id": delivery_id},
        )
        if row is not None:
            payload = as_json(row["payload"])
            found[delivery_id] = Delivery(channel, delivery_id, int(row["position"]), payload)
    return found


async def count_failure(
    tx: Transaction, channel: str, delivery_id: str, *, max_attempts: int
) -> bool:
    """Count a failed try; after ``max_attempts`` the delivery is set aside. True if set aside."""
    key = {"channel": channel, "delivery_id": delivery_id}
    where = " WHERE channel = :channel AND delivery_id = :delivery_id"
    await tx.execute("UPDATE inbox_updates SET attempts = attempts + 1" + where, key)
    return bool(
        await tx.execute(
            "UPDATE inbox_updates SET processed_at = :now"
            + where
            + " AND attempts >= :max_attempts",
            {**key, "now": utcnow(), "max_attempts": max_attempts},
        )
    )


async def purge(tx: Transaction, *, channel: str, received_before: datetime, limit: int) -> int:
    """Erase at most ``limit`` of a channel's processed deliveries received before then (past
    its retention: an id is kept as long as its messenger may deliver it again); how many."""
    due = "channel = :channel AND processed_at IS NOT NULL AND received_at < :before"
    # Chosen by key and erased in one statement: a batch of the retention purge.
    return await tx.execute(
        f"DELETE FROM inbox_updates WHERE {due} AND delivery_id IN"
        f" (SELECT delivery_id FROM inbox_updates WHERE {due} LIMIT :limit)",
        {"channel": channel, "before": received_before, "limit": limit},
    )


async def forget_payloads(tx: Transaction, channel: str, chat_id: int) -> None:
    """Erase what a person sent, and which chat it came from (a WhatsApp chat is a phone
    number): the bare ids stay, so that a retried delivery is still recognised."""
    await tx.execute(
        "UPDATE inbox_updates SET payload = :empty, chat_id = NULL"
        " WHERE channel = :channel AND chat_id = :chat_id",
        {"empty": {}, "channel": channel, "chat_id": chat_id},
    )


# Album parts arrive back to back; other chats' updates in between are far fewer than this.
_ALBUM_LOOKBACK = 1000


async def previous_album(tx: Transaction, channel: str, chat_id: int, position: int) -> str | None:
    """The album (Telegram's ``media_group_id``) the chat's previous delivery belonged to.

    Read only for album parts (rare); the position range keeps it a short scan of the chat's
    index.
    """
    row = await tx.fetch_one(
        "SELECT payload FROM inbox_updates WHERE channel = :channel AND chat_id = :chat_id"
        " AND position < :position AND position >= :oldest"
        " ORDER BY position DESC LIMIT 1",
        {
            "channel": channel,
            "chat_id": chat_id,
            "position": position,
            "oldest": position - _ALBUM_LOOKBACK,
        },
    )
    if row is None:
        return None
    message = as_json(row["payload"]).get("message")
    album = message.get("media_group_id") if isinstance(message, dict) else None
    return album if isinstance(album, str) else None


async def last_position(tx: Transaction, channel: str, chat_id: int) -> int | None:
    """The position of a chat's newest delivery (WhatsApp: when the person last wrote)."""
    row = await tx.fetch_one(
        "SELECT MAX(position) AS newest FROM inbox_updates"
        " WHERE channel = :channel AND chat_id = :chat_id",
        {"channel": channel, "chat_id": chat_id},
    )
    return int(row["newest"]) if row is not None and row["newest"] is not None else None
