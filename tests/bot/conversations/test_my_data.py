"""What a returning person reads about the request already sent, and what /mes_donnees
shows of their bookings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.appointments.service import Appointments
from bot.channels.writers import Writers
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.my_data import request_status
from bot.conversations.service import ConversationService
from bot.leads.handoff import LeadHandoff
from bot.leads.payload import LeadRecord
from bot.storage.database import open_database
from flows.messages import Input
from flows.render import render
from tests.auxil.funnel_data import converse
from tests.auxil.sessions import bookings_of, open_session


def sent_at(moment: datetime) -> LeadRecord:
    return LeadRecord(
        id="lead-1",
        created_at=moment,
        updated_at=moment,
        channel="web",
        referrer_code=None,
        language="fr",
        site="pantin",
        site_name="Pantin",
        first_name="Samir",
        phone="+33612345678",
        email=None,
        contact_preference="phone",
        human_requested=False,
        profile={},
        orientation={},
        status="new",
        history=(),
    )


def test_the_request_is_dated_by_the_day_in_paris() -> None:
    # 23:30 UTC on 29 November is already 30 November in Paris, where the person wrote.
    shown = render(request_status(sent_at(datetime(2026, 11, 29, 23, 30, tzinfo=UTC))), "fr")
    assert "Ta demande du 30/11/2026 est bien arrivée" in shown
    assert "un conseiller va te contacter" in shown


async def my_data(service: ConversationService, person: str) -> str:
    """What /mes_donnees shows the person, as one text."""
    reply = await service.handle(
        channel="web", external_id=person, received=Input(command="my_data")
    )
    return "\n".join(message.text for message in reply.messages)


# The appointments' time in the next test: a Saturday in May, days before the sessions.
SATURDAY = datetime(2031, 5, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
async def service_in_may(database_url: str) -> AsyncIterator[ConversationService]:
    """The conversation service, its sessions and bookings living on 10 May 2031."""
    database = open_database(database_url)
    handoff = LeadHandoff()
    appointments = Appointments(
        database, handoff=handoff, writers=Writers(), clock=lambda: SATURDAY
    )
    service = ConversationService(
        database, FlowRegistry(), handoff=handoff, appointments=appointments
    )
    await service.prepare()
    try:
        yield service
    finally:
        await database.close()


async def test_my_data_shows_each_booking_in_words_with_its_place_and_status(
    service_in_may: ConversationService,
) -> None:
    service = service_in_may
    appointments = service.appointments
    first = await open_session(appointments, starts_at=datetime(2031, 5, 13, 8, 0, tzinfo=UTC))
    later = await open_session(
        appointments,
        starts_at=datetime(2031, 5, 20, 12, 30, tzinfo=UTC),
        place="Mairie de Pantin, salle des fêtes",
    )
    # Samir books the first date and agrees to SMS reminders, then picks the later one.
    await converse(service, "samir")
    [booking] = await bookings_of(service.database, first.id)
    pressed = Input(command="appointment", payload=f"change:{booking.id}")
    await service.handle(channel="web", external_id="samir", received=pressed)
    await service.handle(channel="web", external_id="samir", received=Input(choice=later.id))

    shown = await my_data(service, "samir")

    assert "Tes rendez-vous :\n" in shown
    # Paris time: 10:00 and 14:30 in summer.
    assert (
        "• L'École du Web : mardi 13 mai à 10 h, 12 rue Hoche, 93500 Pantin, salle 2 (annulé)\n"
        "  Rappels par SMS au +33612345678\n"
        "• L'École du Web : mardi 20 mai à 14 h 30, Mairie de Pantin, salle des fêtes (réservé)\n"
        "  Rappels par SMS au +33612345678"
    ) in shown


async def test_attendance_shows_and_someone_who_never_booked_sees_no_appointment(
    service: ConversationService,
) -> None:
    session = await open_session(service.appointments)
    await converse(service, "present")
    await converse(service, "declined", answers={"session": {"choice": "none"}})
    [booking] = await bookings_of(service.database, session.id)
    await service.appointments.mark_attendance(booking.id, True, by="c@poles.example")

    assert "(tu étais là)" in await my_data(service, "present")
    assert "rendez-vous :" not in await my_data(service, "declined")
