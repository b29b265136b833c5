"""Opening sessions for tests as a counsellor would, and reading what was booked."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.appointments import bookings
from bot.appointments.bookings import BookingRecord
from bot.appointments.service import Appointments
from bot.appointments.sessions import NewSession, SessionRecord, get_session
from bot.clock import utcnow
from bot.storage.database import Database

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
