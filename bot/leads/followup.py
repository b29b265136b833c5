"""A counsellor's follow-up of a lead: notes, assignment, and what the admin page reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from bot.storage.database import Transaction
from bot.storage.models import Lead, LeadNote, TranscriptEntry


@dataclass(frozen=True)
class Note:
    at: datetime
    author: str
    body: str


@dataclass(frozen=True)
class Followup:
    """What the lead page shows beyond the lead itself."""

    assigned_to: str | None
    notes: list[Note]


@dataclass(frozen=True)
class TranscriptLine:
    """One message of the person's conversation, as the lead page shows it."""

    # "in" (the person), "out" (the assistant) or "staff" (a counsellor, through the bot).
    direction: str
    body: str
    at: datetime


MAX_NOTE = 4000


async def followup_of(tx: Transaction, lead_id: str) -> Followup:
    assigned_to = await tx.scalar(select(Lead.assigned_to).where(Lead.id == lead_id))
    notes = await tx.all(
        select(LeadNote.at, LeadNote.author, LeadNote.body)
        .where(LeadNote.lead_id == lead_id)
        .order_by(LeadNote.id)
    )
    return Followup(assigned_to=assigned_to, notes=[Note(*note) for note in notes])


async def add_note(tx: Transaction, lead_id: str, author: str, body: str, now: datetime) -> None:
    await tx.run(
        insert(LeadNote).values(lead_id=lead_id, at=now, author=author, body=body[:MAX_NOTE])
    )


async def assign(tx: Transaction, lead_id: str, user_id: str | None, now: datetime) -> None:
    await tx.run(update(Lead).where(Lead.id == lead_id).values(assigned_to=user_id, updated_at=now))


async def transcript_of(tx: Transaction, conversation_id: str) -> list[TranscriptLine]:
    """A conversation's messages, oldest first, for the counsellor following its lead."""
    rows = await tx.all(
        select(TranscriptEntry.direction, TranscriptEntry.body, TranscriptEntry.created_at)
        .where(TranscriptEntry.conversation_id == conversation_id)
        .order_by(TranscriptEntry.id)
    )
    return [TranscriptLine(*row) for row in rows]
