"""What counsellors read of sessions (the admin pages, the command line): nothing changes here.

Sessions are listed with their seats (counted on their own row, bot/appointments/sessions.py),
within the sites an account follows; a session's page lists who booked it, with the first
name the lead gave, the channel to reach them on and where their booking stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.appointments import sessions
from bot.appointments.sessions import SessionRecord
from bot.storage.database import Transaction
from bot.storage.models import AppointmentBooking, Lead

# Sessions stay on the list this long after they start, for attendance to be marked.
RECENT = timedelta(days=14)
# Ids are 32 hex characters: anything longer is not one (and is not sent to the database).
ID_LENGTH = 64


@dataclass(frozen=True)
class SessionsPage:
    """The sessions to come, soonest first, and those of the last days, latest first."""

    upcoming: list[SessionRecord]
    recent: list[SessionRecord]


@dataclass(frozen=True)
class BookedPerson:
    """One booking of a session, as its page shows it."""

    booking_id: str
    lead_id: str
    first_name: str | None
    channel: str
    programme: str
    status: str
    booked_at: datetime
    confirmed_at: datetime | None
    ended_at: datetime | None
    # The person agreed to SMS reminders (web chat): they can be told by SMS.
    by_sms: bool


async def sessions_page(
    tx: Transaction,
    *,
    now: datetime,
    sites: Sequence[str] | None,
    recent: timedelta = RECENT,
    limit: int = 200,
) -> SessionsPage:
    """Open sessions at these sites (all when None) that start after ``now - recent``."""
    found = await sessions.list_sessions(tx, after=now - recent, sites=sites, limit=limit)
    return SessionsPage(
        upcoming=[s for s in found if s.starts_at > now],
        recent=sorted((s for s in found if s.starts_at <= now), key=lambda s: s.starts_at)[::-1],
    )


async def upcoming_sessions(
    tx: Transaction, *, now: datetime, sites: Sequence[str] | None = None, limit: int = 200
) -> list[SessionRecord]:
    """Open sessions starting after ``now``, soonest first, with their seats."""
    return await sessions.list_sessions(tx, after=now, sites=sites, limit=limit)


async def session_within(
    tx: Transaction, session_id: str, *, sites: Sequence[str] | None
) -> SessionRecord | None:
    """A session (cancelled ones too) if it is at one of these sites (any when None); None
    otherwise, so that another site's session is told apart from no session by nobody."""
    if not session_id or len(session_id) > ID_LENGTH:
        return None
    found = await sessions.get_session(tx, session_id)
    if found is None or (sites is not None and found.site not in sites):
        return None
    return found


async def booked_people(tx: Transaction, session_id: str) -> list[BookedPerson]:
    """Everyone who booked the session (cancelled bookings too), first booked first."""
    rows = await tx.all(
        select(
            AppointmentBooking.id,
            AppointmentBooking.lead_id,
            Lead.first_name,
            AppointmentBooking.channel,
            AppointmentBooking.programme,
            AppointmentBooking.status,
            AppointmentBooking.booked_at,
            AppointmentBooking.confirmed_at,
            AppointmentBooking.ended_at,
            AppointmentBooking.sms_phone,
        )
        .join(Lead, Lead.id == AppointmentBooking.lead_id)
        .where(AppointmentBooking.session_id == session_id)
        .order_by(AppointmentBooking.booked_at, AppointmentBooking.id)
    )
    # The phone itself stays in the table: the page only says whether SMS reaches them.
    return [
        BookedPerson(
            booking_id=booking_id,
            lead_id=lead_id,
            first_name=first_name,
            channel=channel,
            programme=programme,
            status=status,
            booked_at=booked_at,
            confirmed_at=confirmed_at,
            ended_at=ended_at,
            by_sms=sms_phone is not None,
        )
        for (
            booking_id,
            lead_id,
            first_name,
            channel,
            programme,
            status,
            booked_at,
            confirmed_at,
            ended_at,
            sms_phone,
        ) in rows
    ]
