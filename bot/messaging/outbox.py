"""The outbox: every call to a messenger's API is stored here first, then sent and marked.

This module alone reads and writes the ``outbox_messages`` table: enqueue, claim with a lease,
record the outcome of a call, mark sent. It is on the hot path (a step's replies are queued in
the step's transaction), so its statements are SQL text on the driver layer.

A message is sent only by the holder of its lease. A step's replies are inserted leased to
the process that made them, which sends them at once (bot/messaging/sender.py); the sender's
loop claims whatever else is due. Rows are never deleted by sending: a sent row keeps its
``sent_at`` (and ``last_error`` when the messenger refused it for good).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.storage.database import Database, Transaction, multi_row_insert
from bot.storage.values import as_datetime, as_json

# Long enough for the slowest API answer (Telegram: 15 s timeout); a crashed sender's lease
# expires and another process sends the message.
LEASE = timedelta(seconds=60)
# Free to send: not sent, not leased (or its lease ran out).
_UNSENT_FREE = "sent_at IS NULL AND (lease_until IS NULL OR lease_until < :now)"
# A message waits while an older message of its chat is still unsent.
_NO_EARLIER_UNSENT = (
    "NOT EXISTS (SELECT 1 FROM outbox_messages earlier WHERE earlier.sent_at IS NULL"
    " AND earlier.channel = outbox_messages.channel AND earlier.chat_id = outbox_messages.chat_id"
    " AND earlier.id < outbox_messages.id)"
)


@dataclass(frozen=True)
class ApiCall:
    """One call to a messenger's API: its method and parameters.

    The Bot API's parameters name the chat (``chat_id``); other APIs name it their way (the
    Graph API's ``to`` is a phone number), so their calls carry the outbox's chat key here.
    """

    method: str
    payload: dict[str, Any]
    chat_id: int | None = None

    @property
    def chat(self) -> int:
        """The outbox's key of the chat this call writes to."""
        return self.chat_id if self.chat_id is not None else int(self.payload["chat_id"])


@dataclass(frozen=True)
class Message:
    """An outbox row this process holds the lease of.

    ``attempts`` is the row's count when this process took the lease: every claim raises it,
    so an unchanged count proves nobody took the row since.
    """

    id: int
    channel: str
    chat_id: int
    method: str
    payload: dict[str, Any]
    lease_until: datetime
    attempts: int = 0


# --- What became of a call ------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """The messenger took the call."""

    at: datetime


@dataclass(frozen=True)
class RetryLater:
    """Not sent (the messenger asked to slow down, or the network failed): due again then."""

    not_before: datetime


@dataclass(frozen=True)
class Abandoned:
    """The messenger will never take this call (a bad request, or the person blocked us)."""

    at: datetime
    reason: str
    # The person blocked the bot: their conversation is marked unreachable.
    unreachable: bool = False


@dataclass(frozen=True)
class Released:
    """Not tried: an older message of the chat waits, so this one goes after it, by the loop."""


Outcome = Sent | RetryLater | Abandoned | Released


# --- Enqueue ----------------------------------------------------------------------------------


async def enqueue_leased(
    tx: Transaction, channel: str, chat_id: int, calls: Sequence[ApiCall], *, now: datetime
) -> list[Message]:
    """Store a step's calls leased to this process, which sends them right after the commit.

    One statement for all of them; the step's own waiting writes (conversation, transcript)
    travel in it on PostgreSQL. RETURNING's order is not relied on: each returned row is
    matched to its call by content, and the calls are handed back in the order of their ids,
    the order in which the sender's loop would send them too.
    """
    if not calls:
        return []
    lease_until = now + LEASE
    rows = [_row(channel, chat_id, call, now, lease_until) for call in calls]
    sql, params = multi_row_insert("outbox_messages", rows)
    # One call (most steps): its id is the one returned; several: each row says which it is.
    returning = " RETURNING id" if len(calls) == 1 else " RETURNING id, method, payload"
    inserted = await tx.fetch(sql + returning, params, independent=True)
    if len(calls) == 1:
        call = calls[0]
        return [
            Message(inserted[0]["id"], channel, chat_id, call.method, call.payload, lease_until)
        ]
    waiting = {n: (call.method, json.dumps(call.payload)) for n, call in enumerate(calls)}
    messages = []
    for row in sorted(inserted, key=lambda r: int(r["id"])):
        stored = row["payload"] if isinstance(row["payload"], str) else json.dumps(row["payload"])
        # The first call of that content not yet matched (equal calls are interchangeable).
        n = next((k for k, v in waiting.items() if v == (row["method"], stored)), min(waiting))
        del waiting[n]
        call = calls[n]
        message = Message(row["id"], channel, chat_id, call.method, call.payload, lease_until)
        messages.append(message)
    return messages


async def enqueue_for_loop(
    tx: Transaction, channel: str, chat_id: int, calls: Sequence[ApiCall], *, now: datetime
) -> None:
    """Store a step's calls for the sender's loop, leased to nobody (a backlog: they wait here,
    in order after the chat's earlier ones, rather than in the process's memory)."""
    rows = [_row(channel, chat_id, call, now, None) for call in calls]
    await tx.insert_rows("outbox_messages", rows)


async def enqueue(
    tx: Transaction, channel: str, calls: Sequence[ApiCall], *, now: datetime
) -> None:
    """Store calls for the sender's loop (a counsellor's message, a reminder, a notice).

    They are sent within a second, at the messenger's pace. Each call's parameters name its
    chat, as the APIs want it.
    """
    rows = [_row(channel, call.chat, call, now, None) for call in calls]
    await tx.insert_rows("outbox_messages", rows)


def _row(
    channel: str, chat_id: int, call: ApiCall, now: datetime, lease_until: datetime | None
) -> dict[str, Any]:
    """An outbox row for a call, due now."""
    return {
        "channel": channel,
        "chat_id": chat_id,
        "method": call.method,
        "payload": call.payload,
        "created_at": now,
        "not_before": now,
        "attempts": 0,
        "lease_until": lease_until,
    }


async def enqueue_later(
    tx: Transaction, channel: str, call: ApiCall, *, now: datetime, not_before: datetime
) -> int | None:
    """Store a call to be sent no sooner than ``not_before`` (a digest); its id."""
    row = _row(channel, call.chat, call, now, None) | {"not_before": not_before}
    sql, params = multi_row_insert("outbox_messages", [row])
    inserted = await tx.fetch_one(sql + " RETURNING id", params)
    return int(inserted["id"]) if inserted else None


async def rewrite_waiting(tx: Transaction, message_id: int, payload: dict[str, Any]) -> bool:
    """Change a call's parameters while nobody is sending it (a digest's count); False if late."""
    return bool(
        await tx.execute(
            "UPDATE outbox_messages SET payload = :payload"
            " WHERE id = :id AND sent_at IS NULL AND lease_until IS NULL",
            {"id": message_id, "payload": payload},
        )
    )


async def purge(tx: Transaction, *, sent_before: datetime, limit: int) -> int:
    """Erase at most ``limit`` calls sent (or given up) before then, past their retention;
    how many (a batch of the retention purge, chosen on the index that starts with sent_at)."""
    due = "sent_at IS NOT NULL AND sent_at < :before"
    return await tx.execute(
        f"DELETE FROM outbox_messages WHERE {due} AND id IN"
        f" (SELECT id FROM outbox_messages WHERE {due} LIMIT :limit)",
        {"before": sent_before, "limit": limit},
    )


async def forget_chat(tx: Transaction, channel: str, chat_id: int) -> None:
    """Erase what was written to a chat (the person asked for erasure)."""
    await tx.execute(
        "DELETE FROM outbox_messages WHERE channel = :channel AND chat_id = :chat_id",
        {"channel": channel, "chat_id": chat_id},
    )


# --- Claim ------------------------------------------------------------------------------------


async def due_ids(database: Database, channel: str, *, now: datetime, limit: int) -> list[int]:
    """A channel's messages due now and leased to nobody, the oldest unsent one of each chat."""
    async with database.transaction() as tx:
        rows = await tx.fetch(
            "SELECT id FROM outbox_messages WHERE channel = :channel AND not_before <= :now AND "
            + _UNSENT_FREE
            + " AND "
            + _NO_EARLIER_UNSENT
            + " ORDER BY id LIMIT :limit",
            {"channel": channel, "now": now, "limit": limit},
        )
    return [row["id"] for row in rows]


async def next_due(database: Database, channel: str, *, now: datetime) -> datetime | None:
    """When a channel's next message left for later (a retry) falls due, if any."""
    async with database.transaction() as tx:
        row = await tx.fetch_one(
            "SELECT MIN(not_before) AS soonest FROM outbox_messages"
            " WHERE channel = :channel AND not_before > :now AND " + _UNSENT_FREE,
            {"channel": channel, "now": now},
        )
    return as_datetime(row["soonest"]) if row else None


async def any_left(database: Database, channel: str, *, now: datetime) -> bool:
    """Whether a channel has a message left for the loop: unsent, leased to nobody."""
    async with database.transaction() as tx:
        row = await tx.fetch_one(
            "SELECT id FROM outbox_messages WHERE channel = :channel AND "
            + _UNSENT_FREE
            + " LIMIT 1",
            {"channel": channel, "now": now},
        )
    return row is not None


async def claim(database: Database, message_id: int, *, now: datetime) -> Message | None:
    """Take a lease on a due message, committed before any network call; None if taken."""
    async with database.transaction() as tx:
        row = await tx.fetch_one(
            "UPDATE outbox_messages SET lease_until = :lease_until, attempts = attempts + 1"
            " WHERE id = :id AND not_before <= :now AND "
            + _UNSENT_FREE
            + " RETURNING id, channel, chat_id, method, payload, attempts",
            {"id": message_id, "now": now, "lease_until": now + LEASE},
        )
    if row is None:
        return None
    payload = as_json(row["payload"])
    return Message(
        row["id"],
        row["channel"],
        row["chat_id"],
        row["method"],
        payload,
        now + LEASE,
        row["attempts"],
    )


async def renew(database: Database, message: Message, *, now: datetime) -> bool:
    """Extend a lease, if nobody claimed the row meanwhile (its claim count unchanged)."""
    async with database.transaction() as tx:
        return bool(
            await tx.execute(
                "UPDATE outbox_messages SET lease_until = :lease_until WHERE id = :id"
                " AND attempts = :attempts AND sent_at IS NULL",
                {"id": message.id, "attempts": message.attempts, "lease_until": now + LEASE},
            )
        )


async def unsent_before(database: Database, message: Message) -> list[int]:
    """Ids of the chat's older messages not marked sent (some may be sent, unmarked)."""
    async with database.transaction() as tx:
        rows = await tx.fetch(
            "SELECT id FROM outbox_messages WHERE channel = :channel AND chat_id = :chat_id"
            " AND id < :id AND sent_at IS NULL ORDER BY id LIMIT 100",
            {"channel": message.channel, "chat_id": message.chat_id, "id": message.id},
        )
    return [row["id"] for row in rows]


# --- Record -----------------------------------------------------------------------------------


async def mark_sent(tx: Transaction, ids: Sequence[int], *, now: datetime) -> None:
    """Mark delivered messages sent, in one statement (it may wait for the next one)."""
    if ids:
        marks = ", ".join(f":id{n}" for n in range(len(ids)))
        await tx.write(
            f"UPDATE outbox_messages SET sent_at = :now, lease_until = NULL WHERE id IN ({marks})",
            {"now": now, **{f"id{n}": i for n, i in enumerate(ids)}},
        )


async def record(tx: Transaction, outcomes: Sequence[tuple[Message, Outcome]]) -> None:
    """Write what became of calls that were not simply sent (those go by ``mark_sent``).

    Written only while the row is still ours (its claim count unchanged): a sender that took
    it meanwhile keeps its own lease.
    """
    for message, outcome in outcomes:
        values: dict[str, Any]
        match outcome:
            case Sent():
                values = {"sent_at": outcome.at}
            case RetryLater():
                values = {"not_before": outcome.not_before}
            case Abandoned():
                values = {"sent_at": outcome.at, "last_error": outcome.reason}
            case Released():
                values = {}
        columns = "".join(f", {name} = :{name}" for name in sorted(values))
        await tx.execute(
            f"UPDATE outbox_messages SET lease_until = NULL{columns}"
            " WHERE id = :id AND attempts = :claimed",
            {**values, "id": message.id, "claimed": message.attempts},
        )


class SentMarks:
    """Delivered messages not yet marked sent, written by the next transaction that runs.

    Sent messages stay leased until marked, so a short delay resends nothing; marking them in
    the next conversation step's transaction (``write_in``, called by the processor) spares a
    transaction per reply. Should that transaction fail, the marks are lost with it: those
    messages stay leased and are sent again once their lease runs out (at worst a duplicate,
    never a loss). ``flush`` writes them in a transaction of their own (after a pause, and at
    shutdown).
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._ids: list[int] = []

    def __contains__(self, message_id: int) -> bool:
        return message_id in self._ids

    def __bool__(self) -> bool:
        return bool(self._ids)

    def add(self, ids: Sequence[int]) -> None:
        self._ids.extend(ids)

    async def write_in(self, tx: Transaction, *, now: datetime) -> None:
        if self._ids:
            ids, self._ids = self._ids, []
            await mark_sent(tx, ids, now=now)

    async def flush(self, *, now: datetime) -> None:
        while self._ids:
            async with self.database.transaction() as tx:
                await self.write_in(tx, now=now)
