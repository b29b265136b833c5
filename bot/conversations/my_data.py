"""What /mes_donnees and a returning person read about the request already sent to PôleS.

A conversation can be restarted while its lead keeps the profile and contact details it was
sent with: the person must see everything kept about them, and where their request stands,
their bookings included (when, where, what became of each, and the number SMS reminders go
to).
"""

from __future__ import annotations

from typing import Any

from bot.appointments.bookings import bookings_of_lead
from bot.appointments.sessions import get_session
from bot.clock import PARIS
from bot.leads.payload import LeadRecord
from bot.leads.store import CONTACT_FIELDS
from bot.storage.database import Transaction
from flows.catalogue import default_catalogue
from flows.flow import Flow
from flows.i18n import Language
from flows.messages import Join, Literal, Say, Text
from flows.offers import spoken_datetime
from flows.presentation import all_answers_message
from flows.state import ConversationState


def lead_answers(flow: Flow, lead: LeadRecord) -> dict[str, Any]:
    """The answers a lead holds, in the order of the summary."""
    contacts = {name: getattr(lead, name) for name in CONTACT_FIELDS}
    held = {**lead.profile, **contacts}
    # The summary names every profile and contact field, each with a label the person reads.
    return {name: held[name] for name in flow.summary_fields if held.get(name) not in (None, [])}


def request_status(lead: LeadRecord) -> Text:
    """The lead's date and status, as the person reads it."""
    return Say(
        "returning.lead",
        {
            # The day as the person lived it: a request sent at 00:30 in Paris is not "yesterday".
            "date": Literal(lead.created_at.astimezone(PARIS).strftime("%d/%m/%Y")),
            "status": Say(f"lead.status.{lead.status}"),
        },
    )


def lead_messages(flow: Flow, state: ConversationState, lead: LeadRecord) -> list[Text]:
    """What the lead keeps, unless the conversation's answers already showed the same."""
    kept = lead_answers(flow, lead)
    if all(state.answers.get(name) == value for name, value in kept.items()):
        return []
    as_state = ConversationState(
        flow_id=flow.id, flow_version=flow.pinned_version, language=state.language, answers=kept
    )
    return [Say("data.lead_kept"), all_answers_message(flow, as_state, default_catalogue())]


async def kept_bookings(tx: Transaction, lead_id: str, language: Language) -> list[Text]:
    """The lead's bookings by date: the programme, the date in words, the place (or video
    link), what became of it, and where SMS reminders go if the person agreed."""
    booked = []
    for booking in await bookings_of_lead(tx, lead_id):
        session = await get_session(tx, booking.session_id)
        if session is not None:
            booked.append((session.starts_at, booking, session))
    lines: list[Say | Literal] = []
    for _, booking, session in sorted(booked, key=lambda found: found[0]):
        lines.append(
            Say(
                "data.booking",
                {
                    "programme": Say(f"programme.{booking.programme}"),
                    "when": Literal(spoken_datetime(session.starts_at, language)),
                    "place": Literal(session.place or session.video_url or ""),
                    "status": Say(f"booking.status.{booking.status}"),
                },
            )
        )
        if booking.sms_phone:
            lines.append(Say("data.booking_sms", {"phone": Literal(booking.sms_phone)}))
    if not lines:
        return []
    return [Say("data.bookings"), Join(tuple(lines), separator="\n")]
