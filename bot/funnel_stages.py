"""Keeping each conversation's lead stage (``lead_stage``, and so ``funnel_stage``) current.

The lead's part of the funnel (bot/funnel.py): enrolled, attended, booked, contacted, or
lead, from the lead's current status, its status history and its bookings. It is computed by
the database in the statement that stores it, so that every writer of those facts (a step
that makes a lead or a booking, a counsellor changing a status or marking attendance, an
erasure) calls one function after its own writes, in its own transaction.

On PostgreSQL the conversation's row is locked first: the UPDATE then reads the facts with a
snapshot taken after any other writer of that lead committed (an UPDATE that waited for a row
lock would otherwise compute with the facts it saw before waiting).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select, update

from bot.storage.database import Transaction
from bot.storage.models import AppointmentBooking, Conversation, Lead, LeadStatusChange

# A statement's IN list stays well under SQLite's and asyncpg's parameter limits.
_CHUNK = 500


def had_status(statuses: frozenset[str]) -> ColumnElement[bool]:
    """The lead has, or once had, one of these statuses."""
    listed = sorted(statuses)  # one order, so one SQL text for the statement cache
    return or_(
        Lead.status.in_(listed),
        exists().where(
            LeadStatusChange.lead_id == Lead.id,
            or_(LeadStatusChange.status.in_(listed), LeadStatusChange.previous.in_(listed)),
        ),
    )


def lead_stage_query() -> Select[tuple[str]]:
    """The stage of the lead of the conversation being updated (no row: no lead)."""
    # Imported here: bot/appointments/bookings.py calls this module after its writes, and the
    # funnel's definition (the statuses that count) imports bot/appointments/bookings.py.
    from bot.appointments.bookings import ATTENDED
    from bot.funnel import CONTACTED_STATUSES, ENROLLED_STATUSES

    stage = case(
        (had_status(ENROLLED_STATUSES), "enrolled"),
        (
            exists().where(
                AppointmentBooking.lead_id == Lead.id, AppointmentBooking.status == ATTENDED
            ),
            "attended",
        ),
        (exists().where(AppointmentBooking.lead_id == Lead.id), "booked"),
        (had_status(CONTACTED_STATUSES), "contacted"),
        else_="lead",
    )
    return select(stage).where(Lead.conversation_id == Conversation.id)


async def refresh_conversations(tx: Transaction, conversation_ids: Sequence[str]) -> None:
    """Compute again the lead stage of these conversations (after their leads' facts changed)."""
    for start in range(0, len(conversation_ids), _CHUNK):
        chunk = list(conversation_ids[start : start + _CHUNK])
        if tx.lock_rows:
            await tx.scalars(
                select(Conversation.id)
                .where(Conversation.id.in_(chunk))
                .order_by(Conversation.id)
                .with_for_update()
            )
        lead_stage = lead_stage_query().scalar_subquery()
        await tx.run(
            update(Conversation)
            .where(Conversation.id.in_(chunk))
            .values(
                lead_stage=lead_stage,
                funnel_stage=func.coalesce(lead_stage, Conversation.state_stage),
                # Not the person's activity: retention's clock stays as it was.
                updated_at=Conversation.updated_at,
            )
        )


async def lock_conversation_of(tx: Transaction, lead_id: str) -> None:
    """Call before changing a lead's facts outside its conversation's step (a counsellor's
    status, attendance): take the conversation's row first, as a step does.

    A step locks its conversation, then its lead and bookings; a counsellor's change that
    locked the lead or the booking first, then the conversation to refresh its stage, could
    deadlock with it on PostgreSQL. One order for everyone: the conversation first.
    """
    if tx.lock_rows:
        await tx.scalars(
            select(Conversation.id)
            .join(Lead, Lead.conversation_id == Conversation.id)
            .where(Lead.id == lead_id)
            .with_for_update(of=Conversation)
        )


async def refresh_lead(tx: Transaction, lead_id: str) -> None:
    """Compute again the stage of this lead's conversation (its status or bookings changed),
    and what became of the lead for the partners' figures (bot/leads/outcomes.py)."""
    from bot.leads import outcomes  # imports bookings, which calls this module

    await outcomes.refresh(tx, [lead_id])
    conversation_id = await tx.scalar(select(Lead.conversation_id).where(Lead.id == lead_id))
    if conversation_id is not None:
        await refresh_conversations(tx, [conversation_id])


async def leads_erased(tx: Transaction, lead_ids: Sequence[str]) -> None:
    """Call before erasing these leads: their conversations count by their state again."""
    for start in range(0, len(lead_ids), _CHUNK):
        chunk = list(lead_ids[start : start + _CHUNK])
        await tx.run(
            update(Conversation)
            .where(
                Conversation.id.in_(
                    select(Lead.conversation_id).where(
                        Lead.id.in_(chunk), Lead.conversation_id.is_not(None)
                    )
                )
            )
            .values(
                lead_stage=None,
                funnel_stage=Conversation.state_stage,
                updated_at=Conversation.updated_at,
            )
        )
