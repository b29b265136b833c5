"""The appointment.* events: the lead as it stands and the booking, to the lead endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.appointments import sessions
from bot.appointments.bookings import BookingRecord
from bot.appointments.sessions import SessionRecord
from bot.leads.deliveries import queue_lead_event
from bot.leads.handoff import LeadHandoff
from bot.leads.payload import EventType, iso
from bot.leads.store import read_lead
from bot.storage.database import Transaction


def appointment_data(booking: BookingRecord, session: SessionRecord) -> dict[str, Any]:
    """What an appointment.* event says of the booking (lead-events.schema.json)."""
    return {
        "id": booking.id,
        "status": booking.status,
        "programme": booking.programme,
        "channel": booking.channel,
        "booked_at": iso(booking.booked_at),
        "confirmed_at": iso(booking.confirmed_at) if booking.confirmed_at else None,
        "session": {
            "id": session.id,
            "starts_at": iso(session.starts_at),
            "ends_at": iso(session.ends_at),
            "site": session.site,
            "programmes": list(session.programmes),
            "place": session.place,
            "video_url": session.video_url,
        },
    }


async def queue_appointment_event(
    tx: Transaction,
    handoff: LeadHandoff,
    booking: BookingRecord,
    event: EventType,
    *,
    now: datetime,
) -> None:
    """Queue the event for every endpoint that wants the booking's lead, in its view."""
    session = await sessions.get_session(tx, booking.session_id)
    assert session is not None
    lead = await read_lead(tx, booking.lead_id)
    await queue_lead_event(
        tx,
        lead,
        event,
        now=now,
        admin_url=handoff.admin_url(lead.id),
        appointment=appointment_data(booking, session),
    )
    handoff.queued.set()
