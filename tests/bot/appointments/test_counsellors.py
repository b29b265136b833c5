"""Counsellors open, move and cancel sessions and mark attendance; booked people are told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from bot.appointments import reminder_store
from bot.appointments.service import Appointments
from bot.appointments.sessions import NewSession, SessionProblem
from bot.channels.writers import Writers
from bot.clock import PARIS
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.leads.handoff import LeadHandoff
from bot.leads.payload import SCHEMA_PATH
from bot.storage.database import Database
from flows.messages import Input
from tests.auxil.clock import ManualClock
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from tests.auxil.sessions import COUNSELLOR, bookings_of, open_session, session_now
from tests.auxil.webhook_receiver import register_endpoint

START = datetime(2027, 5, 11, 10, 0, tzinfo=PARIS)


async def a_service(database: Database, clock: ManualClock) -> ConversationService:
    writers, handoff = Writers(), LeadHandoff()
    service = ConversationService(
        database,
        FlowRegistry(),
        handoff=handoff,
        writers=writers,
        appointments=Appointments(database, handoff=handoff, writers=writers, clock=clock),
    )
    await service.prepare()
    return service


async def book(service: ConversationService, chat: str, session_id: str) -> None:
    reply = await service.handle(
        channel="telegram", external_id=chat, received=Input(command="start")
    )
    while not reply.done:
        question = reply.messages[-1].question
        assert question is not None
        answer = answer_for(question.model_dump(), SAMIR_IN_PANTIN)
        if question.field == "session":
            answer = {"choice": session_id}
        reply = await service.handle(channel="telegram", external_id=chat, received=Input(**answer))


async def sent_to(database: Database, chat: str) -> list[dict[str, Any]]:
    async with database.transaction() as tx:
        rows = await tx.fetch(
            "SELECT payload FROM outbox_messages WHERE channel = 'telegram' AND chat_id = :chat"
            " ORDER BY id",
            {"chat": int(chat)},
        )
    return [
        json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in rows
    ]


async def events(database: Database) -> list[str]:
    async with database.transaction() as tx:
        rows = await tx.fetch("SELECT event_type FROM webhook_deliveries ORDER BY created_at, id")
    return [r["event_type"] for r in rows]


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def test_a_session_needs_its_details_and_each_wrong_one_is_named(database: Database) -> None:
    service = await a_service(database, ManualClock(datetime(2027, 5, 1, tzinfo=UTC)))
    wrong = NewSession(
        programmes=("ecole_du_web", "cooking"),
        site="lyon",
        starts_at=datetime(2027, 4, 1, 10, 0, tzinfo=PARIS),
        capacity=0,
    )
    with pytest.raises(SessionProblem) as problem:
        await service.appointments.open_session(wrong, by=COUNSELLOR)
    for field in ("programme: unknown 'cooking'", "site:", "start:", "capacity:", "place:"):
        assert field in str(problem.value)


async def test_cancelling_tells_each_booked_person_and_offers_another_date(
    database: Database,
) -> None:
    await register_endpoint(database)
    clock = ManualClock(datetime(2027, 5, 1, tzinfo=UTC))
    service = await a_service(database, clock)
    session = await open_session(service.appointments, starts_at=START)
    await book(service, "101", session.id)
    await book(service, "102", session.id)

    assert await service.appointments.cancel_session(session.id, by=COUNSELLOR) == 2
    assert await service.appointments.cancel_session(session.id, by=COUNSELLOR) is None
    for chat in ("101", "102"):
        told = (await sent_to(database, chat))[-1]
        assert "la réunion du mardi 11 mai à 10 h est annulée" in told["text"]
        assert labels(told) == ["Changer de date"]
    assert {b.status for b in await bookings_of(database, session.id)} == {"cancelled"}
    assert (await session_now(database, session.id)).status == "cancelled"
    assert (await events(database)).count("appointment.cancelled") == 2


async def test_moving_tells_people_the_new_date_and_moves_their_reminders(
    database: Database,
) -> None:
    await register_endpoint(database)
    clock = ManualClock(datetime(2027, 5, 1, tzinfo=UTC))
    service = await a_service(database, clock)
    session = await open_session(service.appointments, starts_at=START)
    await book(service, "101", session.id)
    [booking] = await bookings_of(database, session.id)

    later = START + timedelta(days=1, hours=4)
    assert await service.appointments.move_session(session.id, later, by=COUNSELLOR) == 1
    told = (await sent_to(database, "101"))[-1]
    assert "déplacée au mercredi 12 mai à 14 h" in told["text"]
    assert labels(told) == ["J'y serai 👍", "Je ne peux plus venir", "Changer de date"]
    async with database.transaction() as tx:
        reminders = await reminder_store.reminders_of(tx, booking.id)
        [body] = await tx.fetch(
            "SELECT body FROM webhook_deliveries WHERE event_type = 'appointment.moved'"
        )
    assert [r.due_at for r in reminders] == [
        datetime(2027, 5, 11, 18, 0, tzinfo=PARIS),
        later - timedelta(hours=2),
    ]
    # Receivers learn the new times.
    moved = json.loads(body["body"])
    jsonschema.validate(moved, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    assert moved["data"]["appointment"]["session"]["starts_at"] == "2027-05-12T12:00:00Z"


async def test_attendance_is_marked_and_a_no_show_is_offered_another_date(
    database: Database,
) -> None:
    await register_endpoint(database)
    clock = ManualClock(datetime(2027, 5, 1, tzinfo=UTC))
    service = await a_service(database, clock)
    session = await open_session(service.appointments, starts_at=START)
    await book(service, "101", session.id)
    await book(service, "102", session.id)
    by_chat = {b.external_id: b for b in await bookings_of(database, session.id)}
    came, missed = by_chat["101"], by_chat["102"]
    clock.now = START + timedelta(hours=2)

    assert (await service.appointments.mark_attendance(came.id, True, by=COUNSELLOR)) is not None
    assert (await service.appointments.mark_attendance(missed.id, False, by=COUNSELLOR)) is not None
    statuses = {b.external_id: b.status for b in await bookings_of(database, session.id)}
    assert statuses == {"101": "attended", "102": "missed"}
    assert "On ne t'a pas vu·e" in (await sent_to(database, "102"))[-1]["text"]
    assert not [m for m in await sent_to(database, "101") if "pas vu" in m["text"]]
    # A mistake can be corrected; marking the same again changes nothing.
    assert (await service.appointments.mark_attendance(missed.id, False, by=COUNSELLOR)) is None
    assert (await service.appointments.mark_attendance(missed.id, True, by=COUNSELLOR)) is not None
    kinds = await events(database)
    assert kinds.count("appointment.attended") == 2
    assert kinds.count("appointment.missed") == 1
