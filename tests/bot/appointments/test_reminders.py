"""Reminders of a booking: at the right Paris times, sent once, never after a cancellation,
and answered with their buttons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.appointments.reminder_plan import ReminderPlan
from bot.appointments.reminders import AppointmentReminderJob
from bot.appointments.service import Appointments
from bot.channels import buttons
from bot.channels.writers import Writers
from bot.clock import PARIS
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService, Reply
from bot.leads.handoff import LeadHandoff
from bot.storage.database import Database
from flows.messages import Input
from tests.auxil.clock import ManualClock
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from tests.auxil.sessions import bookings_of, open_session, session_now

CHAT = "4242"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_the_evening_before_is_paris_time_and_two_hours_before_is_two_real_hours() -> None:
    plan = ReminderPlan(evening_hour=18, hours_before=2)
    booked = paris(2027, 3, 20, 12, 0)
    # The night of 27 to 28 March 2027, Paris clocks go from 2:00 to 3:00.
    spring = plan.due_times(paris(2027, 3, 28, 10, 0), now=booked)
    assert spring == [
        ("day_before", datetime(2027, 3, 27, 17, 0, tzinfo=UTC)),  # 18:00 winter time
        ("hours_before", datetime(2027, 3, 28, 6, 0, tzinfo=UTC)),  # 8:00 summer time
    ]
    # The night of 30 to 31 October 2027, they go back from 3:00 to 2:00.
    autumn = plan.due_times(paris(2027, 10, 31, 9, 0), now=paris(2027, 10, 20, 9, 0))
    assert autumn == [
        ("day_before", datetime(2027, 10, 30, 16, 0, tzinfo=UTC)),  # 18:00 summer time
        ("hours_before", datetime(2027, 10, 31, 6, 0, tzinfo=UTC)),  # 7:00 winter time
    ]


def test_a_booking_made_late_gets_only_the_reminders_still_ahead() -> None:
    plan = ReminderPlan()
    start = paris(2027, 5, 11, 10, 0)
    assert [kind for kind, _ in plan.due_times(start, now=paris(2027, 5, 10, 20, 0))] == [
        "hours_before"
    ]
    assert plan.due_times(start, now=paris(2027, 5, 11, 9, 0)) == []


async def booked_on_telegram(
    database: Database, clock: ManualClock, starts_at: datetime
) -> tuple[ConversationService, str, str]:
    writers = Writers()
    handoff = LeadHandoff()
    appointments = Appointments(database, handoff=handoff, writers=writers, clock=clock)
    service = ConversationService(
        database, FlowRegistry(), handoff=handoff, writers=writers, appointments=appointments
    )
    await service.prepare()
    session = await open_session(appointments, starts_at=starts_at)
    reply = await service.handle(
        channel="telegram", external_id=CHAT, received=Input(command="start")
    )
    while not reply.done:
        question = reply.messages[-1].question
        assert question is not None
        reply = await service.handle(
            channel="telegram",
            external_id=CHAT,
            received=Input(**answer_for(question.model_dump(), SAMIR_IN_PANTIN)),
        )
    [booking] = await bookings_of(database, session.id)
    return service, session.id, booking.id


async def telegram_texts(database: Database) -> list[dict[str, Any]]:
    async with database.transaction() as tx:
        rows = await tx.fetch(
            "SELECT payload FROM outbox_messages WHERE channel = 'telegram' ORDER BY id"
        )
    payloads = [r["payload"] for r in rows]
    return [json.loads(p) if isinstance(p, str) else p for p in payloads]


async def test_reminders_go_at_their_time_once_with_buttons_that_work(database: Database) -> None:
    clock = ManualClock(datetime(2027, 3, 20, 11, 0, tzinfo=UTC))
    start = paris(2027, 3, 28, 10, 0)
    service, session_id, booking_id = await booked_on_telegram(database, clock, start)
    job = AppointmentReminderJob(service.appointments, database)

    clock.now = datetime(2027, 3, 27, 16, 59, tzinfo=UTC)
    assert await job.run_due() == 0
    clock.now = datetime(2027, 3, 27, 17, 0, tzinfo=UTC)
    assert await job.run_due() == 1
    assert await job.run_due() == 0  # never twice

    [reminder] = [p for p in await telegram_texts(database) if "Petit rappel" in p.get("text", "")]
    assert reminder["chat_id"] == int(CHAT)
    assert "dimanche 28 mars à 10 h" in reminder["text"]
    pressed = [
        b["callback_data"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert pressed == [
        f"c|rdv{booking_id}|confirm",
        f"c|rdv{booking_id}|cancel",
        f"c|rdv{booking_id}|change",
    ]

    # "Je ne peux plus venir": the seat is free at once and no reminder follows.
    kind, step, value = buttons.parts(pressed[1])
    received = buttons.appointment_press(step, value)
    assert received is not None
    reply = await service.handle(channel="telegram", external_id=CHAT, received=received)
    assert "ta place est libérée" in "\n".join(m.text for m in reply.messages)
    assert (await session_now(database, session_id)).seats_taken == 0
    clock.now = datetime(2027, 3, 28, 6, 0, tzinfo=UTC)
    assert await job.run_due() == 0


async def test_a_guessed_booking_id_changes_nothing(database: Database) -> None:
    clock = ManualClock(datetime(2027, 3, 20, 11, 0, tzinfo=UTC))
    service, session_id, booking_id = await booked_on_telegram(
        database, clock, paris(2027, 3, 28, 10, 0)
    )
    stranger: Reply = await service.handle(
        channel="telegram",
        external_id="999",
        received=Input(command="appointment", payload=f"cancel:{booking_id}"),
    )
    assert "Je ne retrouve pas ce rendez-vous" in "\n".join(m.text for m in stranger.messages)
    assert (await session_now(database, session_id)).seats_taken == 1


async def test_changing_the_date_from_a_reminder_books_the_new_one_and_frees_the_old(
    database: Database,
) -> None:
    clock = ManualClock(datetime(2027, 3, 20, 11, 0, tzinfo=UTC))
    start = paris(2027, 3, 28, 10, 0)
    service, first_id, booking_id = await booked_on_telegram(database, clock, start)
    later = await open_session(service.appointments, starts_at=start + timedelta(days=2))

    offered = await service.handle(
        channel="telegram",
        external_id=CHAT,
        received=Input(command="appointment", payload=f"change:{booking_id}"),
    )
    question = offered.messages[-1].question
    assert question is not None
    assert later.id in [c.value for c in question.choices]
    reply = await service.handle(
        channel="telegram", external_id=CHAT, received=Input(choice=later.id)
    )
    assert reply.done
    assert "mardi 30 mars à 10 h" in "\n".join(m.text for m in reply.messages)
    assert (await session_now(database, first_id)).seats_taken == 0
    assert (await session_now(database, later.id)).seats_taken == 1
    [old] = await bookings_of(database, first_id)
    assert old.status == "cancelled"
