"""Booking a session inside the conversation: offered, taken atomically, confirmed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.appointments import reminder_store
from bot.clock import utcnow
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService, Reply
from bot.leads.handoff import LeadHandoff
from bot.leads.store import lead_of_conversation
from bot.storage.database import Database, open_database
from flows.messages import Input
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from tests.auxil.service_chat import finish_as_lead
from tests.auxil.sessions import bookings_of, open_session, session_now


async def a_service(database: Database) -> ConversationService:
    service = ConversationService(database, FlowRegistry(), handoff=LeadHandoff())
    await service.prepare()
    return service


def texts(reply: Reply) -> str:
    return "\n".join(m.text for m in reply.messages)


async def up_to_the_dates(service: ConversationService, person: str) -> Reply:
    """A web chat conversation up to the question offering session dates."""
    reply = await service.handle(channel="web", external_id=person, received=Input(command="start"))
    for _ in range(40):
        question = reply.messages[-1].question
        assert question is not None, texts(reply)
        if question.field == "session":
            return reply
        reply = await service.handle(
            channel="web",
            external_id=person,
            received=Input(**answer_for(question.model_dump(), SAMIR_IN_PANTIN)),
        )
    raise AssertionError("no dates were offered")


async def test_a_person_books_the_next_session_and_is_told_when_where_and_what_to_bring(
    database: Database,
) -> None:
    service = await a_service(database)
    session = await open_session(service.appointments)

    offered = await up_to_the_dates(service, "samir")
    question = offered.messages[-1].question
    assert question is not None
    assert [c.value for c in question.choices] == [session.id, "none"]
    assert question.choices[-1].label == "Aucune ne me va"

    reply = await service.handle(
        channel="web", external_id="samir", received=Input(choice=session.id)
    )
    assert reply.done
    said = texts(reply)
    assert "C'est réservé ✅" in said
    assert "12 rue Hoche" in said
    assert "openstreetmap.org/search?query=12%20rue%20Hoche" in said
    assert "pièce d'identité" in said
    assert reply.booking is not None

    assert (await session_now(database, session.id)).seats_taken == 1
    [booking] = await bookings_of(database, session.id)
    assert booking.channel == "web"
    # Samir agreed to SMS reminders on the web chat: they go to his number.
    assert booking.sms_phone == "+33612345678"
    async with database.transaction() as tx:
        lead = await lead_of_conversation(tx, reply.conversation_id or "")
        reminders = await reminder_store.reminders_of(tx, booking.id)
    assert lead is not None
    assert lead.status == "appointment"
    assert [change.status for change in lead.history] == ["new", "appointment"]
    assert [r.kind for r in reminders] == ["day_before", "hours_before"]
    assert reminders[1].due_at == session.starts_at - timedelta(hours=2)


async def test_without_an_open_session_the_conversation_ends_as_before(database: Database) -> None:
    service = await a_service(database)
    reply = await finish_as_lead(service, "samir")
    assert "te contacte d'ici 3 jours (sans compter le week-end)" in texts(reply)
    assert reply.booking is None


async def test_none_of_these_dates_leaves_the_call_from_a_counsellor(database: Database) -> None:
    service = await a_service(database)
    session = await open_session(service.appointments)
    await up_to_the_dates(service, "samir")
    reply = await service.handle(channel="web", external_id="samir", received=Input(choice="none"))
    assert reply.done
    assert "te contacte d'ici 3 jours (sans compter le week-end)" in texts(reply)
    assert (await session_now(database, session.id)).seats_taken == 0


async def test_fifty_people_at_once_fill_twelve_seats_and_the_others_get_the_next_date(
    database: Database, database_url: str
) -> None:
    # Two service processes on one database, as in production behind a load balancer.
    other_database = open_database(database_url)
    try:
        services = [await a_service(database), await a_service(other_database)]
        first = await open_session(services[0].appointments, capacity=12)
        later = await open_session(
            services[0].appointments, starts_at=first.starts_at + timedelta(days=7), capacity=40
        )
        people = [f"person-{n}" for n in range(50)]
        for n, person in enumerate(people):
            await up_to_the_dates(services[n % 2], person)

        replies = await asyncio.gather(
            *(
                services[n % 2].handle(
                    channel="web", external_id=person, received=Input(choice=first.id)
                )
                for n, person in enumerate(people)
            )
        )
    finally:
        await other_database.close()

    assert (await session_now(database, first.id)).seats_taken == 12
    assert len(await bookings_of(database, first.id)) == 12
    booked = [r for r in replies if r.done]
    turned_away = [r for r in replies if not r.done]
    assert len(booked) == 12
    assert len(turned_away) == 38
    for reply in turned_away:
        assert "la dernière place de cette date vient de partir" in texts(reply)
        question = reply.messages[-1].question
        assert question is not None
        assert [c.value for c in question.choices] == [later.id, "none"]


async def test_only_sessions_of_a_fitting_programme_are_offered_however_many_others(
    database: Database,
) -> None:
    service = await a_service(database)
    soon = utcnow() + timedelta(days=2)
    for n in range(20):  # children's workshops first, many of them
        await open_session(
            service.appointments,
            starts_at=soon + timedelta(hours=n),
            programmes=("children_workshops",),
        )
    wanted = await open_session(service.appointments, starts_at=soon + timedelta(days=3))
    offered = await up_to_the_dates(service, "samir")
    question = offered.messages[-1].question
    assert question is not None
    assert [c.value for c in question.choices] == [wanted.id, "none"]
