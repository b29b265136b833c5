"""The audit log: who saw a lead's personal data or changed something, and when.

A line names the account, the action and the lead's id, never the personal data itself; it
outlives the lead (bot/retention.py keeps the lines of erased leads).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from bot.storage.database import Transaction
from bot.storage.models import AuditEntry

# The detail column's length: a longer detail is cut, never refused.
DETAIL_LENGTH = 300


@dataclass(frozen=True)
class AuditLine:
    """One line of the log."""

    at: datetime
    actor: str
    action: str
    lead_id: str | None
    detail: str | None


_LINES = select(
    AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.lead_id, AuditEntry.detail
)


async def record(
    tx: Transaction,
    *,
    actor: str,
    action: str,
    at: datetime,
    lead_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Add a line: ``actor`` (an account's e-mail) did ``action``, to ``lead_id`` if any."""
    await tx.run(
        insert(AuditEntry).values(
            at=at,
            actor=actor,
            action=action,
            lead_id=lead_id,
            detail=detail[:DETAIL_LENGTH] if detail else None,
        )
    )


async def last_line(tx: Transaction, action: str) -> AuditLine | None:
    """The newest line of an action, if any."""
    row = await tx.first(
        _LINES.where(AuditEntry.action == action)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    return AuditLine(*row) if row else None


async def newest_lines(tx: Transaction, count: int) -> list[AuditLine]:
    """The newest lines, newest first, at most ``count``."""
    rows = await tx.all(_LINES.order_by(AuditEntry.id.desc()).limit(count))
    return [AuditLine(*row) for row in rows]
