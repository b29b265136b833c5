"""Storing conversations and their transcripts: every statement about them is here.

A step's statements (find, insert, update, transcript) are on the hot path: SQL text on the
driver layer, written once for both databases. The rest (a counsellor's hold, what the web
chat polls, reminders) are SQLAlchemy Core statements.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import func, or_, select, update

from bot.storage.database import Row, Transaction
from bot.storage.models import Conversation, Lead, TranscriptEntry
from bot.storage.values import as_datetime


@dataclass
class ConversationRow:
    """What a step needs of a stored conversation."""

    id: str
    channel: str
    external_id: str
    flow_id: str
    flow_version: str
    referrer_code: str | None
    state: str  # the engine state as stored: JSON text, parsed by pydantic in one go
    created_at: datetime
    reminded_at: datetime | None
    # A counsellor talking with the person: the script waits (bot/conversations/counsellor.py).
    held_by: str | None = None
    # The columns of a step as stored (read from the database; empty for a new conversation):
    # a step writes only those that changed (``save_step``).
    stored: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, row: Row) -> ConversationRow:
        created_at = as_datetime(row["created_at"])
        assert created_at is not None
        return cls(
            id=row["id"],
            channel=row["channel"],
            external_id=row["external_id"],
            flow_id=row["flow_id"],
            flow_version=row["flow_version"],
            referrer_code=row["referrer_code"],
            state=row["state"] if isinstance(row["state"], str) else json.dumps(row["state"]),
            created_at=created_at,
            reminded_at=as_datetime(row["reminded_at"]),
            held_by=row["held_by"],
            stored={name: row[name] for name in _SOMETIMES_CHANGED},
        )


@dataclass(frozen=True)
class Found:
    """A conversation the caller looked up already in this transaction (or found missing).

    The caller holds the person's lock (Telegram: the chat's), so it is still current.
    """

    row: ConversationRow | None


@dataclass(frozen=True)
class StepValues:
    """What a step writes of a conversation."""

    flow_version: str
    language: str
    referrer_code: str | None
    status: str
    state: str  # JSON text
    remind_at: datetime | None
    close_at: datetime | None
    # The funnel's stage of the state alone (bot/funnel.py), written with it.
    state_stage: str | None = None


_FIND = (
    "SELECT id, channel, external_id, flow_id, flow_version, referrer_code, state, created_at,"
    " reminded_at, held_by, language, status, state_stage FROM conversations"
    " WHERE channel = :channel AND external_id = :external_id"
)
_INSERT = (
    "INSERT INTO conversations (id, channel, external_id, flow_id, flow_version, language,"
    " referrer_code, status, state, created_at, updated_at, remind_at, close_at, state_stage,"
    " funnel_stage)"
    " VALUES (:id, :channel, :external_id, :flow_id, :flow_version, :language, :referrer_code,"
    " :status, :state, :now, :now, :remind_at, :close_at, :state_stage, :state_stage)"
)
# A step's columns that most steps leave as they were. Written only when they change: the
# database then keeps the indexes on them (the funnel's, the partners') as they are, which
# SQLite would otherwise rewrite at every step, the value being the same or not.
_SOMETIMES_CHANGED = ("flow_version", "language", "referrer_code", "status", "state_stage")
_ALWAYS = (
    "state = :state, updated_at = :now, unreachable_at = NULL, remind_at = :remind_at,"
    " close_at = :close_at"
)


@cache
def _update(changed: tuple[str, ...]) -> str:
    """The UPDATE of a step that changed these columns (a few texts, each prepared once)."""
    assignments = [_ALWAYS] + [f"{name} = :{name}" for name in changed]
    if "state_stage" in changed:
        assignments.append("funnel_stage = COALESCE(lead_stage, :state_stage)")
    return f"UPDATE conversations SET {', '.join(assignments)} WHERE id = :id"


# --- A step (hot path) ----------------------------------------------------------------------


def find_statement(
    tx: Transaction, *, channel: str, external_id: str, lock: bool = False
) -> tuple[str, dict[str, Any]]:
    """The query ``find`` runs, for the inbox, which sends it with the update's insert."""
    lock_clause = tx.lock_rows if lock else ""
    return _FIND + lock_clause, {"channel": channel, "external_id": external_id}


async def find(
    tx: Transaction, *, channel: str, external_id: str, lock: bool = False
) -> ConversationRow | None:
    """A person's conversation on a channel, locked for update on PostgreSQL if asked."""
    statement = find_statement(tx, channel=channel, external_id=external_id, lock=lock)
    row = await tx.fetch_one(*statement)
    return ConversationRow.read(row) if row else None


async def insert(tx: Transaction, row: ConversationRow, values: StepValues, now: datetime) -> None:
    """Store a new conversation after its first step (an error surfaces at the next statement)."""
    await tx.write(
        _INSERT,
        {
            "id": row.id,
            "channel": row.channel,
            "external_id": row.external_id,
            "flow_id": row.flow_id,
            "now": now,
            **values.__dict__,
        },
    )


async def save_step(
    tx: Transaction, row: ConversationRow, values: StepValues, now: datetime
) -> None:
    """Store a conversation's state after a step; an answer makes the person reachable again."""
    written = values.__dict__
    changed = tuple(
        name
        for name in _SOMETIMES_CHANGED
        if name not in row.stored or row.stored[name] != written[name]
    )
    parameters = {"id": row.id, "now": now, "state": values.state}
    parameters |= {"remind_at": values.remind_at, "close_at": values.close_at}
    parameters |= {name: written[name] for name in changed}
    await tx.write(_update(changed), parameters)


async def touch(tx: Transaction, conversation_id: str, now: datetime) -> None:
    """Record activity without a step (an input waiting for a counsellor)."""
    await tx.write(
        "UPDATE conversations SET updated_at = :now WHERE id = :id",
        {"now": now, "id": conversation_id},
    )


async def delete(tx: Transaction, conversation_id: str) -> None:
    """Erase a conversation; its transcript goes with it (ON DELETE CASCADE)."""
    await tx.write("DELETE FROM conversations WHERE id = :id", {"id": conversation_id})


async def record_transcript(
    tx: Transaction, conversation_id: str, entries: Sequence[tuple[str, str]], *, now: datetime
) -> None:
    """Append messages to a conversation's transcript."""
    if entries:
        await tx.insert_rows(
            "transcript_entries",
            [
                {"conversation_id": conversation_id, "direction": d, "body": b, "created_at": now}
                for d, b in entries
            ],
        )


async def set_reachable(
    tx: Transaction, *, channel: str, external_id: str, reachable: bool, now: datetime
) -> None:
    """Mark a person reachable again, or not (they blocked the bot, or Telegram said 403)."""
    await tx.execute(
        "UPDATE conversations SET unreachable_at = :at"
        " WHERE channel = :channel AND external_id = :external_id",
        {"at": None if reachable else now, "channel": channel, "external_id": external_id},
    )


async def reachable_again(tx: Transaction, *, channel: str, external_id: str) -> None:
    """Lift a person's "unreachable" mark, if any: they wrote to us again (after a STOP)."""
    await tx.execute(
        "UPDATE conversations SET unreachable_at = NULL WHERE channel = :channel"
        " AND external_id = :external_id AND unreachable_at IS NOT NULL",
        {"channel": channel, "external_id": external_id},
    )


async def activity(
    tx: Transaction, *, channel: str, external_id: str
) -> tuple[bool, datetime] | None:
    """Whether a conversation is done, and when it was last active; None when there is none."""
    row = await tx.first(
        select(Conversation.status, Conversation.updated_at).where(
            Conversation.channel == channel, Conversation.external_id == external_id
        )
    )
    return (row[0] == "done", row[1]) if row else None


# --- A counsellor's hold, and what the web chat polls ---------------------------------------


@dataclass(frozen=True)
class Held:
    """The conversation of a lead, as a counsellor talking with the person needs it."""

    conversation_id: str
    channel: str
    external_id: str
    language: str
    held_by: str | None
    held_at: datetime | None


async def conversation_of_lead(tx: Transaction, lead_id: str) -> Held | None:
    row = await tx.first(
        select(
            Conversation.id,
            Conversation.channel,
            Conversation.external_id,
            Conversation.language,
            Conversation.held_by,
            Conversation.held_at,
        )
        .join(Lead, Lead.conversation_id == Conversation.id)
        .where(Lead.id == lead_id)
    )
    return Held(*row) if row else None


async def hold(tx: Transaction, conversation_id: str, *, author: str, now: datetime) -> None:
    """A counsellor takes the conversation: the script and its reminders wait."""
    await tx.run(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(
            held_by=author,
            held_at=func.coalesce(Conversation.held_at, now),
            remind_at=None,
            close_at=None,
            updated_at=now,
        )
    )


async def release(tx: Transaction, conversation_id: str, *, now: datetime) -> None:
    """The counsellor hands the conversation back to the script."""
    await tx.run(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(held_by=None, held_at=None, updated_at=now)
    )


async def holder(tx: Transaction, *, channel: str, external_id: str) -> tuple[str, bool] | None:
    """A conversation's id, and whether a counsellor holds it; None when there is none."""
    row = await tx.first(
        select(Conversation.id, Conversation.held_by).where(
            Conversation.channel == channel, Conversation.external_id == external_id
        )
    )
    return (row[0], row[1] is not None) if row else None


async def staff_messages(
    tx: Transaction, conversation_id: str, *, after: int, limit: int = 50
) -> list[tuple[int, str]]:
    """What counsellors wrote in a conversation after a transcript id, oldest first."""
    rows = await tx.all(
        select(TranscriptEntry.id, TranscriptEntry.body)
        .where(
            TranscriptEntry.conversation_id == conversation_id,
            TranscriptEntry.direction == "staff",
            TranscriptEntry.id > after,
        )
        .order_by(TranscriptEntry.id)
        .limit(limit)
    )
    return [(int(entry_id), body) for entry_id, body in rows]


# --- Reminders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A conversation whose reminder or closing is due."""

    id: str
    channel: str
    external_id: str
    language: str
    reachable: bool
    close_at: datetime | None


async def due_reminders(tx: Transaction, *, now: datetime, limit: int) -> list[Due]:
    """Conversations with a reminder or a closing due; others' batches are skipped (PostgreSQL)."""
    rows = await tx.all(
        select(
            Conversation.id,
            Conversation.channel,
            Conversation.external_id,
            Conversation.language,
            Conversation.unreachable_at,
            Conversation.close_at,
        )
        .where(or_(Conversation.remind_at <= now, Conversation.close_at <= now))
        .order_by(Conversation.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [
        Due(id_, channel, external_id, language, unreachable_at is None, close_at)
        for id_, channel, external_id, language, unreachable_at, close_at in rows
    ]


async def close(tx: Transaction, conversation_id: str) -> None:
    """A week without an answer: the conversation is closed, nothing more is due."""
    await tx.run(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        # Not an activity of the person's: updated_at (retention's clock) stays as it was.
        .values(status="closed", remind_at=None, close_at=None, updated_at=Conversation.updated_at)
    )


async def reminded(tx: Transaction, conversation_id: str, *, at: datetime | None) -> None:
    """The reminder is done (``at``: when it was queued; None when none could be sent)."""
    values: dict[str, Any] = {"remind_at": None, "updated_at": Conversation.updated_at}
    if at is not None:
        values["reminded_at"] = at
    await tx.run(update(Conversation).where(Conversation.id == conversation_id).values(**values))
