"""Opening sessions for tests as a counsellor would, and reading what was booked."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from bot.appointments import bookings, sessions
from bot.appointments.bookings import BookingRecord, NewBooking
from bot.appointments.service import Appointments
from bot.appointments.sessions import NewSession, SessionRecord, get_session
from bot.clock import new_id, utcnow
from bot.storage.database import Database
from bot.storage.models import Lead

COUNSELLOR = "conseillere@poles.example"


async def open_session(
    appointments: Appointments,
    *,
    starts_at: datetime | None = None,
    capacity: int = 12,
    site: str = "pantin",
    programmes: tuple[str, ...] = ("ecole_du_web",),
    place: str | None = "12 rue Hoche, 93500 Pantin, salle 2",
) -> SessionRecord:
    """A session three days from now at Pantin for the École du Web, unless told otherwise."""
    new = NewSession(
        programmes=programmes,
        site=site,
        starts_at=starts_at or (utcnow() + timedelta(days=3)).replace(microsecond=0),
        capacity=capacity,
        place=place,
    )
    return await appointments.open_session(new, by=COUNSELLOR)


async def session_now(database: Database, session_id: str) -> SessionRecord:
    async with database.transaction() as tx:
        found = await get_session(tx, session_id)
    assert found is not None
    return found


async def bookings_of(database: Database, session_id: str) -> list[BookingRecord]:
    async with database.transaction() as tx:
        return await bookings.bookings_of_session(tx, session_id)


async def web_chat_booking(
    database: Database,
    *,
    starts_at: datetime,
    now: datetime | None = None,
    sms_phone: str | None = None,
    language: str = "fr",
    place: str | None = "12 rue Hoche, 93500 Pantin, salle 2",
    duration_minutes: int = 60,
) -> tuple[BookingRecord, SessionRecord]:
    """A web chat person's lead and seat at a Pantin session of the École du Web, written
    straight to the database (for tests about what follows a booking)."""
    now = now or utcnow()
    lead_id = new_id()
    new = NewSession(
        programmes=("ecole_du_web",),
        site="pantin",
        starts_at=starts_at,
        capacity=12,
        duration_minutes=duration_minutes,
        place=place,
    )
    async with database.transaction() as tx:
        await tx.run(
            insert(Lead).values(
                id=lead_id, channel="web", language=language, site="pantin", profile={},
                orientation={}, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        session = await sessions.add_session(tx, new, created_by=COUNSELLOR, now=now)
        seat = NewBooking(
            session_id=session.id,
            lead_id=lead_id,
            programme="ecole_du_web",
            channel="web",
            external_id=None,
            language=language,
            sms_phone=sms_phone,
        )
        booked = await bookings.book(tx, seat, now=now)
    assert booked is not None
    return booked.booking, session
