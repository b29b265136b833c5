"""Sessions in the database: opened, listed, moved and cancelled by counsellors.

Everything runs inside the caller's transaction. Times are stored in UTC and shown in Paris
time (bot.clock.PARIS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, insert, or_, select, update

from bot.clock import new_id
from bot.storage.database import Transaction
from bot.storage.models import AppointmentSession
from flows.catalogue import PROGRAMME_IDS

OPEN = "open"
CANCELLED = "cancelled"
MAX_CAPACITY = 500
MAX_DURATION_MINUTES = 8 * 60


class SessionProblem(ValueError):
    """A session's details cannot be accepted; the message names the field and why."""


@dataclass(frozen=True)
class SessionRecord:
    id: str
    programmes: tuple[str, ...]
    site: str
    starts_at: datetime
    duration_minutes: int
    place: str | None
    video_url: str | None
    capacity: int
    seats_taken: int
    status: str

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.seats_taken)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class NewSession:
    """What a counsellor gives to open a session (checked by ``problems``)."""

    programmes: tuple[str, ...]
    site: str
    starts_at: datetime
    capacity: int
    duration_minutes: int = 60
    place: str | None = None
    video_url: str | None = None

    def problems(self, *, sites: Sequence[str], now: datetime) -> list[str]:
        """Each problem as ``field: why``; empty when the session can be opened."""
        found: list[str] = []
        if not self.programmes:
            found.append("programme: at least one is needed")
        for programme in self.programmes:
            if programme not in PROGRAMME_IDS:
                found.append(f"programme: unknown {programme!r} ({', '.join(PROGRAMME_IDS)})")
        if self.site not in sites:
            found.append(f"site: unknown {self.site!r}")
        if self.starts_at.tzinfo is None:
            found.append("start: needs a time zone")
        elif self.starts_at <= now:
            found.append("start: must be in the future")
        if not 1 <= self.capacity <= MAX_CAPACITY:
            found.append(f"capacity: between 1 and {MAX_CAPACITY}")
        if not 5 <= self.duration_minutes <= MAX_DURATION_MINUTES:
            found.append(f"duration: between 5 and {MAX_DURATION_MINUTES} minutes")
        if not (self.place or self.video_url):
            found.append("place: a place or a video link is needed")
        if self.place is not None and len(self.place) > 300:
            found.append("place: at most 300 characters")
        if self.video_url is not None and (
            len(self.video_url) > 500 or not self.video_url.startswith("https://")
        ):
            found.append("video: an https:// link of at most 500 characters")
        return found


_COLUMNS = (
    AppointmentSession.id,
    AppointmentSession.programmes,
    AppointmentSession.site,
    AppointmentSession.starts_at,
    AppointmentSession.duration_minutes,
    AppointmentSession.place,
    AppointmentSession.video_url,
    AppointmentSession.capacity,
    AppointmentSession.seats_taken,
    AppointmentSession.status,
)


_Row = tuple[str, str, str, datetime, int, str | None, str | None, int, int, str]


def _read(row: _Row) -> SessionRecord:
    (id_, programmes, site, starts_at, duration, place, video, capacity, taken, status) = row
    return SessionRecord(
        id=id_,
        programmes=tuple(p for p in programmes.split(",") if p),
        site=site,
        starts_at=starts_at,
        duration_minutes=duration,
        place=place,
        video_url=video,
        capacity=capacity,
        seats_taken=taken,
        status=status,
    )


async def add_session(
    tx: Transaction, new: NewSession, *, created_by: str, now: datetime
) -> SessionRecord:
    """Open a session (its details checked by the caller with ``new.problems``)."""
    session_id = new_id()
    await tx.run(
        insert(AppointmentSession).values(
            id=session_id,
            programmes="," + ",".join(new.programmes) + ",",
            site=new.site,
            starts_at=new.starts_at,
            duration_minutes=new.duration_minutes,
            place=new.place,
            video_url=new.video_url,
            capacity=new.capacity,
            seats_taken=0,
            status=OPEN,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
    )
    found = await get_session(tx, session_id)
    assert found is not None
    return found


async def get_session(tx: Transaction, session_id: str) -> SessionRecord | None:
    row = await tx.first(select(*_COLUMNS).where(AppointmentSession.id == session_id))
    return _read(row) if row else None


async def list_sessions(
    tx: Transaction,
    *,
    after: datetime,
    sites: Sequence[str] | None = None,
    include_cancelled: bool = False,
    limit: int = 200,
) -> list[SessionRecord]:
    """Sessions starting after then, soonest first; only those sites' when given."""
    conditions: list[ColumnElement[bool]] = [AppointmentSession.starts_at > after]
    if not include_cancelled:
        conditions.append(AppointmentSession.status == OPEN)
    if sites is not None:
        conditions.append(AppointmentSession.site.in_(list(sites)))
    rows = await tx.all(
        select(*_COLUMNS)
        .where(*conditions)
        .order_by(AppointmentSession.starts_at, AppointmentSession.id)
        .limit(limit)
    )
    return [_read(row) for row in rows]


async def open_sessions_for(
    tx: Transaction,
    *,
    site: str,
    programmes: Sequence[str],
    after: datetime,
    before: datetime,
    limit: int,
) -> list[SessionRecord]:
    """Open sessions with a seat left, at a site, presenting one of these programmes."""
    if not programmes:
        return []
    presents = [
        AppointmentSession.programmes.contains(f",{p},", autoescape=True) for p in programmes
    ]
    rows = await tx.all(
        select(*_COLUMNS)
        .where(
            AppointmentSession.status == OPEN,
            AppointmentSession.site == site,
            AppointmentSession.starts_at > after,
            AppointmentSession.starts_at < before,
            AppointmentSession.seats_taken < AppointmentSession.capacity,
            or_(*presents),
        )
        .order_by(AppointmentSession.starts_at, AppointmentSession.id)
        .limit(limit)
    )
    return [_read(row) for row in rows]


async def take_seat(tx: Transaction, session_id: str, *, now: datetime) -> bool:
    """Take one seat if the session is open, not started and not full: one conditional
    UPDATE, so concurrent bookings (other processes included) never overfill it."""
    taken = await tx.run(
        update(AppointmentSession)
        .where(
            AppointmentSession.id == session_id,
            AppointmentSession.status == OPEN,
            AppointmentSession.starts_at > now,
            AppointmentSession.seats_taken < AppointmentSession.capacity,
        )
        .values(seats_taken=AppointmentSession.seats_taken + 1, updated_at=now)
    )
    return taken == 1


async def free_seat(tx: Transaction, session_id: str, *, now: datetime) -> None:
    await tx.run(
        update(AppointmentSession)
        .where(AppointmentSession.id == session_id, AppointmentSession.seats_taken > 0)
        .values(seats_taken=AppointmentSession.seats_taken - 1, updated_at=now)
    )


async def cancel_session(tx: Transaction, session_id: str, *, now: datetime) -> bool:
    """Mark an open session cancelled; False if unknown or cancelled already."""
    changed = await tx.run(
        update(AppointmentSession)
        .where(AppointmentSession.id == session_id, AppointmentSession.status == OPEN)
        .values(status=CANCELLED, seats_taken=0, updated_at=now)
    )
    return changed == 1


async def move_session(
    tx: Transaction, session_id: str, starts_at: datetime, *, now: datetime
) -> bool:
    """Give an open session a new start; False if unknown or cancelled."""
    changed = await tx.run(
        update(AppointmentSession)
        .where(AppointmentSession.id == session_id, AppointmentSession.status == OPEN)
        .values(starts_at=starts_at, updated_at=now)
    )
    return changed == 1
