"""A counsellor's follow-up of a lead: notes, assignment, and what the admin page reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.storage.database import Transaction
from bot.storage.values import as_datetime


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


MAX_NOTE = 4000


async def followup_of(tx: Transaction, lead_id: str) -> Followup:
    row = await tx.fetch_one(
        "SELECT assigned_to FROM leads WHERE id = :id",
        {"id": lead_id},
    )
    notes = await tx.fetch(
        "SELECT at, author, body FROM lead_notes WHERE lead_id = :id ORDER BY id",
        {"id": lead_id},
    )
    return Followup(
        assigned_to=row["assigned_to"] if row else None,
        notes=[Note(as_datetime(n["at"]) or datetime.min, n["author"], n["body"]) for n in notes],
    )


async def add_note(tx: Transaction, lead_id: str, author: str, body: str, now: datetime) -> None:
    await tx.write(
        "INSERT INTO lead_notes (lead_id, at, author, body) VALUES (:id, :now, :author, :body)",
        {"id": lead_id, "now": now, "author": author, "body": body[:MAX_NOTE]},
    )


async def assign(tx: Transaction, lead_id: str, user_id: str | None, now: datetime) -> None:
    await tx.write(
        "UPDATE leads SET assigned_to = :user, updated_at = :now WHERE id = :id",
        {"user": user_id, "now": now, "id": lead_id},
    )
