"""Bookings in the database: a seat taken, given back, confirmed, attended or missed.

Everything runs inside the caller's transaction. A seat is counted on its session's row
(bot/appointments/sessions.py): booking takes one with a conditional UPDATE, and anything
that ends a booking before the session gives it back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, or_, select, update

from bot import funnel_stages
from bot.appointments import sessions
from bot.clock import new_id
from bot.storage.database import Transaction
from bot.storage.models import AppointmentBooking, AppointmentReminder, AppointmentSession

BOOKED = "booked"
CANCELLED = "cancelled"
ATTENDED = "attended"
MISSED = "missed"
STATUSES = (BOOKED, CANCELLED, ATTENDED, MISSED)
# Who ended a booking, besides a counsellor's e-mail.
BY_PERSON = "person"
BY_SESSION_CANCELLED = "session_cancelled"


@dataclass(frozen=True)
class BookingRecord:
    id: str
    session_id: str
    lead_id: str
    programme: str
    channel: str
    external_id: str | None
    language: str
    sms_phone: str | None
    status: str
    booked_at: datetime
    confirmed_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None


@dataclass(frozen=True)
class NewBooking:
    """A seat to book: which session, for whom, and how to remind them."""

    session_id: str
    lead_id: str
    programme: str
    channel: str
    external_id: str | None
    language: str
    # Only when the person agreed to SMS reminders (web chat).
    sms_phone: str | None = None


@dataclass(frozen=True)
class Booked:
    """A booking, and the one of the same programme it replaced (its seat given back);
    ``new`` is False when the person already had this very seat."""

    booking: BookingRecord
    replaced: BookingRecord | None
    new: bool = True


_COLUMNS = (
    AppointmentBooking.id,
    AppointmentBooking.session_id,
    AppointmentBooking.lead_id,
    AppointmentBooking.programme,
    AppointmentBooking.channel,
    AppointmentBooking.external_id,
    AppointmentBooking.language,
    AppointmentBooking.sms_phone,
    AppointmentBooking.status,
    AppointmentBooking.booked_at,
    AppointmentBooking.confirmed_at,
    AppointmentBooking.ended_at,
    AppointmentBooking.ended_by,
)
_FIELDS = tuple(column.key for column in _COLUMNS)


def _record(row: Sequence[Any]) -> BookingRecord:
    # Thirteen columns: more than select() types, so the row is named here.
    return BookingRecord(**dict(zip(_FIELDS, row, strict=True)))


async def _select(tx: Transaction, *conditions: ColumnElement[bool]) -> list[BookingRecord]:
    rows = await tx.all(
        select(*_COLUMNS)
        .where(*conditions)
        .order_by(AppointmentBooking.booked_at, AppointmentBooking.id)
    )
    return [_record(row) for row in rows]


async def get_booking(tx: Transaction, booking_id: str) -> BookingRecord | None:
    found = await _select(tx, AppointmentBooking.id == booking_id)
    return found[0] if found else None


async def bookings_of_session(tx: Transaction, session_id: str) -> list[BookingRecord]:
    """Everyone who booked a session (cancelled ones included), first booked first."""
    return await _select(tx, AppointmentBooking.session_id == session_id)


async def bookings_of_lead(tx: Transaction, lead_id: str) -> list[BookingRecord]:
    return await _select(tx, AppointmentBooking.lead_id == lead_id)


async def active_booking(tx: Transaction, lead_id: str, programme: str) -> BookingRecord | None:
    found = await _select(
        tx,
        AppointmentBooking.lead_id == lead_id,
        AppointmentBooking.programme == programme,
        AppointmentBooking.status == BOOKED,
    )
    return found[0] if found else None


async def book(tx: Transaction, new: NewBooking, *, now: datetime) -> Booked | None:
    """Take a seat and record the booking; None when the session is full, cancelled or
    started (nothing changes then)."""
    if not await sessions.take_seat(tx, new.session_id, now=now):
        return None
    return await record(tx, new, now=now)


async def record(tx: Transaction, new: NewBooking, *, now: datetime) -> Booked:
    """Record a booking whose seat the caller took (sessions.take_seat).

    One active booking per person and programme: a new one replaces the old one, whose seat
    is given back; the same session again gives back the seat just taken.
    """
    previous = await active_booking(tx, new.lead_id, new.programme)
    if previous is not None and previous.session_id == new.session_id:
        await sessions.free_seat(tx, new.session_id, now=now)
        return Booked(previous, None, new=False)
    replaced = None
    if previous is not None:
        replaced = await end_booking(tx, previous.id, CANCELLED, by=BY_PERSON, now=now)
    booking_id = new_id()
    await tx.run(
        insert(AppointmentBooking).values(
            id=booking_id, status=BOOKED, booked_at=now, **dataclasses.asdict(new)
        )
    )
    await funnel_stages.refresh_lead(tx, new.lead_id)
    booking = await get_booking(tx, booking_id)
    assert booking is not None
    return Booked(booking, replaced)


async def end_booking(
    tx: Transaction, booking_id: str, status: str, *, by: str, now: datetime
) -> BookingRecord | None:
    """Cancel a booking, or mark it attended or missed; None if it was not in a state to.

    Cancelling gives the seat back and drops the reminders not sent yet. Attendance is
    marked on an active booking, and may be corrected from one to the other.
    """
    if status not in (CANCELLED, ATTENDED, MISSED):
        raise ValueError(f"unknown end {status!r}")
    current = await get_booking(tx, booking_id)
    allowed = (BOOKED,) if status == CANCELLED else (BOOKED, ATTENDED, MISSED)
    if current is None or current.status not in allowed or current.status == status:
        return None
    if ATTENDED in (status, current.status):
        await funnel_stages.lock_conversation_of(tx, current.lead_id)
    await tx.run(
        update(AppointmentBooking)
        .where(AppointmentBooking.id == booking_id, AppointmentBooking.status == current.status)
        .values(status=status, ended_at=now, ended_by=by)
    )
    if ATTENDED in (status, current.status):
        # Attended, or no longer: the funnel's stage of the lead changes.
        await funnel_stages.refresh_lead(tx, current.lead_id)
    if current.status == BOOKED:
        await drop_reminders(tx, [booking_id])
        if status == CANCELLED:
            await sessions.free_seat(tx, current.session_id, now=now)
    return await get_booking(tx, booking_id)


async def cancel_session_bookings(
    tx: Transaction, session_id: str, *, now: datetime
) -> list[BookingRecord]:
    """The session was cancelled: every active booking of it ends; those bookings, ended."""
    active = [b for b in await bookings_of_session(tx, session_id) if b.status == BOOKED]
    if not active:
        return []
    ids = [b.id for b in active]
    await tx.run(
        update(AppointmentBooking)
        .where(AppointmentBooking.id.in_(ids))
        .values(status=CANCELLED, ended_at=now, ended_by=BY_SESSION_CANCELLED)
    )
    await drop_reminders(tx, ids)
    return await _select(tx, AppointmentBooking.id.in_(ids))


async def free_lead_seats(tx: Transaction, lead_id: str, *, now: datetime) -> list[BookingRecord]:
    """Before a lead is erased: its active bookings give their seats back; those bookings."""
    active = [b for b in await bookings_of_lead(tx, lead_id) if b.status == BOOKED]
    for booking in active:
        await end_booking(tx, booking.id, CANCELLED, by=BY_PERSON, now=now)
    return active


async def confirm(tx: Transaction, booking_id: str, *, now: datetime) -> bool:
    """The person said they will come ("J'y serai"); False if the booking is not active."""
    changed = await tx.run(
        update(AppointmentBooking)
        .where(AppointmentBooking.id == booking_id, AppointmentBooking.status == BOOKED)
        .values(confirmed_at=now)
    )
    return changed == 1


async def set_sms_phone(tx: Transaction, booking_id: str, phone: str | None) -> None:
    """Where SMS reminders go (None: the person does not want them)."""
    await tx.run(
        update(AppointmentBooking)
        .where(AppointmentBooking.id == booking_id)
        .values(sms_phone=phone)
    )


async def drop_reminders(tx: Transaction, booking_ids: Sequence[str]) -> None:
    """Reminders not sent yet go: none is ever sent after a cancellation."""
    if booking_ids:
        await tx.run(
            delete(AppointmentReminder).where(
                AppointmentReminder.booking_id.in_(list(booking_ids)),
                AppointmentReminder.sent_at.is_(None),
            )
        )


async def forget_contacts(tx: Transaction, *, sessions_before: datetime, limit: int) -> int:
    """Retention: at most ``limit`` bookings of sessions that started before then no longer
    keep how to reach the person (their chat, their SMS number); how many were changed."""
    due = (
        or_(AppointmentBooking.external_id.is_not(None), AppointmentBooking.sms_phone.is_not(None)),
        AppointmentBooking.session_id.in_(
            select(AppointmentSession.id).where(AppointmentSession.starts_at < sessions_before)
        ),
    )
    # Chosen by key, changed in one statement: a batch of the retention purge.
    return await tx.run(
        update(AppointmentBooking)
        .where(AppointmentBooking.id.in_(select(AppointmentBooking.id).where(*due).limit(limit)))
        .values(external_id=None, sms_phone=None)
    )
