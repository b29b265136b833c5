"""Bookings' reminders in the database: scheduled at booking, claimed when due, marked sent.

A reminder is claimed with a lease, as the outbox's calls are: two workers never send the
same one, and one whose worker died is claimed again when the lease ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update

from bot.appointments.reminder_plan import ReminderPlan
from bot.storage.database import Transaction
from bot.storage.models import AppointmentBooking, AppointmentReminder

LEASE = timedelta(minutes=5)
_COLUMNS = (
    AppointmentReminder.id,
    AppointmentReminder.booking_id,
    AppointmentReminder.kind,
    AppointmentReminder.due_at,
)


@dataclass(frozen=True)
class DueReminder:
    id: int
    booking_id: str
    kind: str
    due_at: datetime


async def schedule(
    tx: Transaction, booking_id: str, starts_at: datetime, plan: ReminderPlan, *, now: datetime
) -> list[datetime]:
    """Write a booking's reminders still ahead; when they are due."""
    due = plan.due_times(starts_at, now=now)
    for kind, at in due:
        await tx.run(
            insert(AppointmentReminder).values(booking_id=booking_id, kind=kind, due_at=at)
        )
    return [at for _, at in due]


async def reschedule(
    tx: Transaction,
    booking_ids: Sequence[str],
    starts_at: datetime,
    plan: ReminderPlan,
    *,
    now: datetime,
) -> None:
    """The session moved: its bookings' unsent reminders are due at new times."""
    if not booking_ids:
        return
    await tx.run(
        delete(AppointmentReminder).where(
            AppointmentReminder.booking_id.in_(list(booking_ids)),
            AppointmentReminder.sent_at.is_(None),
        )
    )
    for booking_id in booking_ids:
        await schedule(tx, booking_id, starts_at, plan, now=now)


async def claim_due(tx: Transaction, *, now: datetime, limit: int) -> list[DueReminder]:
    """Reminders due now, nobody else sending them, of active bookings; leased to the caller."""
    rows = await tx.all(
        select(*_COLUMNS)
        .join(AppointmentBooking, AppointmentBooking.id == AppointmentReminder.booking_id)
        .where(
            AppointmentReminder.sent_at.is_(None),
            AppointmentReminder.due_at <= now,
            or_(AppointmentReminder.lease_until.is_(None), AppointmentReminder.lease_until < now),
            AppointmentBooking.status == "booked",
        )
        .order_by(AppointmentReminder.due_at, AppointmentReminder.id)
        .limit(limit)
    )
    claimed = []
    for reminder_id, booking_id, kind, due_at in rows:
        taken = await tx.run(
            update(AppointmentReminder)
            .where(
                AppointmentReminder.id == reminder_id,
                AppointmentReminder.sent_at.is_(None),
                or_(
                    AppointmentReminder.lease_until.is_(None),
                    AppointmentReminder.lease_until < now,
                ),
            )
            .values(lease_until=now + LEASE)
        )
        if taken:
            claimed.append(DueReminder(reminder_id, booking_id, kind, due_at))
    return claimed


async def mark_sent(tx: Transaction, reminder_id: int, *, now: datetime) -> None:
    """Sent (or given up for good): never sent again."""
    await tx.run(
        update(AppointmentReminder)
        .where(AppointmentReminder.id == reminder_id)
        .values(sent_at=now, lease_until=None)
    )


async def reminders_of(tx: Transaction, booking_id: str) -> list[DueReminder]:
    """A booking's reminders not sent yet, earliest first."""
    rows = await tx.all(
        select(*_COLUMNS)
        .where(AppointmentReminder.booking_id == booking_id, AppointmentReminder.sent_at.is_(None))
        .order_by(AppointmentReminder.due_at)
    )
    return [DueReminder(*row) for row in rows]
