"""Sessions and bookings as people and counsellors use them.

In a conversation: the sessions open to a person (flows/offers.py asks for them), a seat
taken when a date is picked, the booking recorded once the lead exists, with its reminders,
the lead's status (``appointment``) and an ``appointment.booked`` event. For counsellors:
opening, moving and cancelling sessions (each booked person is told on their channel) and
marking attendance. For the person: "J'y serai", "Je ne peux plus venir", "Changer de date"
from a reminder or the link of an SMS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.appointments import bookings, reminder_store, sessions
from bot.appointments.bookings import BookingRecord, NewBooking
from bot.appointments.calendar_file import appointment_calendar, calendar_path
from bot.appointments.events import queue_appointment_event
from bot.appointments.map_link import map_link
from bot.appointments.reminder_plan import ReminderPlan
from bot.appointments.sessions import NewSession, SessionProblem, SessionRecord
from bot.appointments.telling import CANCEL, CHANGE, CONFIRM, Teller, appointment_message
from bot.channels.writers import Writers
from bot.clock import utcnow
from bot.leads.handoff import LeadHandoff
from bot.leads.payload import ASSISTANT, EventType, LeadRecord
from bot.leads.store import set_status
from bot.settings import Settings
from bot.storage.database import Database, Transaction
from flows.catalogue import Catalogue, default_catalogue
from flows.i18n import parse_language
from flows.offers import OffersNeeded, SessionOffer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingRules:
    """How far ahead dates are offered, how many, how soon before they start, reminders."""

    horizon: timedelta = timedelta(days=28)
    offers: int = 3
    # A session about to start is not offered: the person could not get there.
    notice: timedelta = timedelta(hours=1)
    plan: ReminderPlan = field(default_factory=ReminderPlan)

    @classmethod
    def from_settings(cls, settings: Settings) -> BookingRules:
        return cls(
            horizon=timedelta(days=settings.appointment_horizon_days),
            offers=settings.appointment_offers,
            plan=ReminderPlan(
                evening_hour=settings.appointment_reminder_evening_hour,
                hours_before=settings.appointment_reminder_hours_before,
            ),
        )


class Appointments:
    """Sessions and bookings of one process, on one database."""

    def __init__(
        self,
        database: Database,
        *,
        handoff: LeadHandoff,
        writers: Writers,
        rules: BookingRules | None = None,
        catalogue: Catalogue | None = None,
        link_key: bytes | None = None,
        public_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.handoff = handoff
        self.writers = writers
        self.rules = rules or BookingRules()
        self.catalogue = catalogue or default_catalogue()
        # Signs the links of SMS and calendar files (bot/appointments/links.py); without
        # it (tests, the console) messages carry no link.
        self.link_key = link_key
        self.public_url = public_url
        self.teller = Teller(writers, link_key=link_key, public_url=public_url)
        self.clock = clock

    # --- in the conversation -----------------------------------------------------------
    async def offers_for(self, tx: Transaction, need: OffersNeeded) -> list[SessionOffer]:
        """The next sessions open to the person, as the engine offers them."""
        if need.site is None or not need.programmes:
            return []
        try:
            site_name = self.catalogue.site(need.site).name
        except KeyError:
            return []
        now = self.clock()
        found = await sessions.open_sessions_for(
            tx,
            site=need.site,
            programmes=need.programmes,
            after=now + self.rules.notice,
            before=now + self.rules.horizon,
            limit=self.rules.offers,
        )
        return [self._offer(session, need.programmes, site_name) for session in found]

    def _offer(self, session: SessionRecord, wanted: Sequence[str], site_name: str) -> SessionOffer:
        programme = next(p for p in wanted if p in session.programmes)
        rules = next((r for p, r in self.catalogue.programmes.items() if p == programme), None)
        return SessionOffer(
            id=session.id,
            programme=programme,
            starts_at=session.starts_at,
            duration_minutes=session.duration_minutes,
            site_name=site_name,
            place=session.place,
            video_url=session.video_url,
            map_url=map_link(session.place) if session.place else None,
            bring=tuple(rules.bring) if rules is not None else (),
        )

    async def take_seat(self, tx: Transaction, session_id: str) -> bool:
        """A date was picked: its seat, if one is still free (the booking follows)."""
        return await sessions.take_seat(tx, session_id, now=self.clock())

    async def give_back(self, tx: Transaction, session_id: str) -> None:
        await sessions.free_seat(tx, session_id, now=self.clock())

    async def owns(self, tx: Transaction, *, lead: LeadRecord | None, booking_id: str) -> bool:
        """Whether the booking is this person's and still active."""
        booking = await _owned(tx, lead, booking_id)
        return booking is not None and booking.status == bookings.BOOKED

    async def record_booking(
        self,
        tx: Transaction,
        *,
        lead: LeadRecord,
        offer: SessionOffer,
        channel: str,
        external_id: str,
        sms_phone: str | None,
    ) -> BookingRecord:
        """The lead exists and the seat is taken: the booking, its reminders, the lead's
        status and the events."""
        now = self.clock()
        new = NewBooking(
            session_id=offer.id,
            lead_id=lead.id,
            programme=offer.programme,
            channel=channel,
            external_id=external_id,
            language=lead.language,
            sms_phone=sms_phone,
        )
        booked = await bookings.record(tx, new, now=now)
        session = await sessions.get_session(tx, offer.id)
        assert session is not None
        if booked.replaced is not None:
            await queue_appointment_event(
                tx, self.handoff, booked.replaced, "appointment.cancelled", now=now
            )
        if booked.new:
            await reminder_store.schedule(
                tx, booked.booking.id, session.starts_at, self.rules.plan, now=now
            )
            await set_status(tx, lead.id, "appointment", changed_by=ASSISTANT, now=now)
            await queue_appointment_event(
                tx, self.handoff, booked.booking, "appointment.booked", now=now
            )
            logger.info("appointment booked", extra={"booking": booked.booking.id})
        return booked.booking

    async def person_answers(
        self, tx: Transaction, *, lead: LeadRecord | None, booking_id: str, action: str
    ) -> str:
        """A press on a reminder's button; the message id of the answer. Only the person's
        own bookings can be changed: a guessed id is answered as an unknown one."""
        booking = await _owned(tx, lead, booking_id)
        if booking is None:
            return "booking.unknown"
        if booking.status != bookings.BOOKED:
            return "booking.already_ended"
        now = self.clock()
        if action == CONFIRM:
            await bookings.confirm(tx, booking_id, now=now)
            return "booking.see_you_there"
        if action == CANCEL:
            await self._cancel(tx, booking, by=bookings.BY_PERSON, now=now)
            return "booking.cancelled_by_person"
        return "booking.unknown"

    # --- for the person, outside the conversation (SMS link) ------------------------------
    async def confirm(self, booking_id: str, *, by: str) -> BookingRecord | None:
        """ "J'y serai"; None if the booking is not active."""
        async with self.database.transaction() as tx:
            if not await bookings.confirm(tx, booking_id, now=self.clock()):
                return None
            return await bookings.get_booking(tx, booking_id)

    async def cancel_booking(self, booking_id: str, *, by: str) -> BookingRecord | None:
        """The seat is given back at once; None if the booking is not active."""
        async with self.database.transaction() as tx:
            booking = await bookings.get_booking(tx, booking_id)
            if booking is None or booking.status != bookings.BOOKED:
                return None
            return await self._cancel(tx, booking, by=by, now=self.clock())

    async def _cancel(
        self, tx: Transaction, booking: BookingRecord, *, by: str, now: datetime
    ) -> BookingRecord | None:
        ended = await bookings.end_booking(tx, booking.id, bookings.CANCELLED, by=by, now=now)
        if ended is not None:
            await queue_appointment_event(tx, self.handoff, ended, "appointment.cancelled", now=now)
            logger.info("appointment cancelled", extra={"booking": booking.id})
        return ended

    # --- for counsellors ---------------------------------------------------------------
    async def open_session(self, new: NewSession, *, by: str) -> SessionRecord:
        """Open a session; SessionProblem names every field that is wrong."""
        now = self.clock()
        problems = new.problems(sites=[s.id for s in self.catalogue.sites], now=now)
        if problems:
            raise SessionProblem("; ".join(problems))
        async with self.database.transaction() as tx:
            session = await sessions.add_session(tx, new, created_by=by, now=now)
        logger.info("session opened", extra={"session": session.id})
        return session

    async def cancel_session(self, session_id: str, *, by: str) -> int | None:
        """Cancel a session and tell each booked person, offering another date; how many
        were told (None: unknown or cancelled already)."""
        now = self.clock()
        async with self.database.transaction() as tx:
            session = await sessions.get_session(tx, session_id)
            if session is None or not await sessions.cancel_session(tx, session_id, now=now):
                return None
            ended = await bookings.cancel_session_bookings(tx, session_id, now=now)
            told = 0
            for booking in ended:
                await queue_appointment_event(
                    tx, self.handoff, booking, "appointment.cancelled", now=now
                )
                message = appointment_message(
                    booking, "booking.session_cancelled", session, actions=(CHANGE,)
                )
                told += int(await self.teller.tell(tx, booking, session, message, now=now))
        logger.info("session cancelled", extra={"session": session_id, "told": told})
        return told

    async def move_session(self, session_id: str, starts_at: datetime, *, by: str) -> int | None:
        """Give a session a new start; each booked person is told, and may change or cancel.
        How many were told (None: unknown or cancelled)."""
        now = self.clock()
        if starts_at.tzinfo is None or starts_at <= now:
            raise SessionProblem("start: must be in the future")
        async with self.database.transaction() as tx:
            if not await sessions.move_session(tx, session_id, starts_at, now=now):
                return None
            session = await sessions.get_session(tx, session_id)
            assert session is not None
            active = [
                b for b in await bookings.bookings_of_session(tx, session_id)
                if b.status == bookings.BOOKED
            ]  # fmt: skip
            await reminder_store.reschedule(
                tx, [b.id for b in active], starts_at, self.rules.plan, now=now
            )
            told = 0
            for booking in active:
                await queue_appointment_event(
                    tx, self.handoff, booking, "appointment.moved", now=now
                )
                message = appointment_message(
                    booking, "booking.session_moved", session, actions=(CONFIRM, CANCEL, CHANGE)
                )
                told += int(await self.teller.tell(tx, booking, session, message, now=now))
        logger.info("session moved", extra={"session": session_id, "told": told})
        return told

    async def mark_attendance(
        self, booking_id: str, attended: bool, *, by: str
    ) -> BookingRecord | None:
        """Present or absent; a no-show gets one kind message offering another date."""
        now = self.clock()
        status = bookings.ATTENDED if attended else bookings.MISSED
        async with self.database.transaction() as tx:
            marked = await bookings.end_booking(tx, booking_id, status, by=by, now=now)
            if marked is None:
                return None
            event: EventType = "appointment.attended" if attended else "appointment.missed"
            await queue_appointment_event(tx, self.handoff, marked, event, now=now)
            session = await sessions.get_session(tx, marked.session_id)
            if not attended and session is not None:
                message = appointment_message(marked, "booking.missed", session, actions=(CHANGE,))
                await self.teller.tell(tx, marked, session, message, now=now)
        return marked

    async def calendar(
        self, tx: Transaction, booking: BookingRecord
    ) -> tuple[bytes, str | None] | None:
        """A booking's calendar file, and the web chat's link to it (None without a key)."""
        session = await sessions.get_session(tx, booking.session_id)
        if session is None:
            return None
        content = appointment_calendar(
            session,
            programme=booking.programme,
            language=parse_language(booking.language),
            booking_id=booking.id,
        )
        url = None
        if self.link_key is not None:
            path = calendar_path(booking.id, session.ends_at, self.link_key)
            url = f"{(self.public_url or '').rstrip('/')}{path}"
        return content, url

    async def remind(self, tx: Transaction, booking: BookingRecord, kind: str) -> bool:
        """Send one of a booking's reminders; whether it could reach the person."""
        session = await sessions.get_session(tx, booking.session_id)
        if session is None or session.status != sessions.OPEN:
            return False
        message = appointment_message(
            booking, f"booking.reminder.{kind}", session, actions=(CONFIRM, CANCEL, CHANGE)
        )
        return await self.teller.tell(tx, booking, session, message, now=self.clock())


async def _owned(tx: Transaction, lead: LeadRecord | None, booking_id: str) -> BookingRecord | None:
    """The booking if it is this person's, whatever its state; None for anyone else's (a
    guessed id is answered as an unknown one)."""
    booking = await bookings.get_booking(tx, booking_id)
    if lead is None or booking is None or booking.lead_id != lead.id:
        return None
    return booking
