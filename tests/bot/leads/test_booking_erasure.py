"""/supprimer with a booking: the seat goes to someone else at once, and nothing of the
booking stays (its reminders, its SMS), nor is any appointment event sent about it."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.appointments.bookings import bookings_of_lead
from bot.channels.sms import CHANNEL as SMS
from bot.channels.sms.queue import queue_sms
from bot.clock import utcnow
from bot.conversations.service import ConversationService
from bot.leads.store import lead_of_conversation
from bot.storage.models import (
    AppointmentBooking,
    AppointmentReminder,
    Lead,
    OutboxMessage,
    SmsMessage,
    WebhookDelivery,
)
from flows.messages import Input
from tests.auxil.funnel_data import converse
from tests.auxil.sessions import bookings_of, open_session, session_now
from tests.auxil.webhook_receiver import all_delivered, register_endpoint

PHONE = "+33612345678"


async def count(service: ConversationService, model: type[object], *where: object) -> int:
    async with service.database.transaction() as tx:
        found = await tx.scalars(select(func.count()).select_from(model).where(*where))  # type: ignore[arg-type]
    return int(found[0])


async def erase(service: ConversationService, person: str) -> str:
    """/supprimer, then "yes": what the person reads."""
    web = {"channel": "web", "external_id": person}
    await service.handle(**web, received=Input(command="erase"))
    reply = await service.handle(**web, received=Input(choice="erase_yes"))
    return reply.messages[0].text


async def test_erasure_frees_the_seat_at_once_and_leaves_nothing_of_the_booking(
    service: ConversationService,
) -> None:
    endpoint = await register_endpoint(service.database)
    session = await open_session(service.appointments, capacity=1)
    conversation = await converse(service, "samir")
    async with service.database.transaction() as tx:
        lead = await lead_of_conversation(tx, conversation)
        assert lead is not None
        [booking] = await bookings_of_lead(tx, lead.id)
        # An SMS reminder on its way, as the reminder job queues it for a web chat person.
        assert await queue_sms(
            tx, booking_id=booking.id, phone=PHONE, text="Rappel : demain 10 h", now=utcnow()
        )
    assert (await session_now(service.database, session.id)).seats_left == 0
    assert await count(service, AppointmentReminder) == 2
    # The endpoint got the lead and its booking.
    await all_delivered(service.database)

    assert "effacé" in await erase(service, "samir")

    assert (await session_now(service.database, session.id)).seats_taken == 0
    assert await count(service, Lead) == 0
    assert await count(service, AppointmentBooking) == 0
    assert await count(service, AppointmentReminder) == 0
    assert await count(service, SmsMessage) == 0
    # The endpoint is told to erase the lead: no appointment.cancelled repeating its data.
    async with service.database.transaction() as tx:
        sent = await tx.scalars(
            select(WebhookDelivery.event_type)
            .where(WebhookDelivery.endpoint_id == endpoint)
            .order_by(WebhookDelivery.created_at)
        )
    assert sorted(sent) == ["appointment.booked", "lead.created", "lead.deleted"]
    # The freed seat is someone else's to take.
    await converse(service, "next-person")
    [taken] = await bookings_of(service.database, session.id)
    assert taken.status == "booked"
    assert (await session_now(service.database, session.id)).seats_left == 0


async def test_an_sms_not_sent_yet_goes_with_the_erasure(service: ConversationService) -> None:
    await open_session(service.appointments)
    conversation = await converse(service, "samir")
    async with service.database.transaction() as tx:
        lead = await lead_of_conversation(tx, conversation)
        assert lead is not None
        [booking] = await bookings_of_lead(tx, lead.id)
        assert await queue_sms(
            tx, booking_id=booking.id, phone=PHONE, text="Rappel : demain 10 h", now=utcnow()
        )
    assert await count(service, OutboxMessage, OutboxMessage.channel == SMS) == 1

    await erase(service, "samir")

    # Not sent after the person asked to be forgotten, and their number not kept.
    assert await count(service, OutboxMessage, OutboxMessage.channel == SMS) == 0


async def test_erasing_after_the_session_keeps_the_seat_count_of_the_past(
    service: ConversationService,
) -> None:
    session = await open_session(service.appointments, capacity=3)
    await converse(service, "came")
    await converse(service, "stays")
    [came, _] = await bookings_of(service.database, session.id)
    await service.appointments.mark_attendance(came.id, True, by="c@poles.example")

    await erase(service, "came")

    # Only a booking still active gives its seat back: the session's figures stay true.
    assert (await session_now(service.database, session.id)).seats_taken == 2
    [left] = await bookings_of(service.database, session.id)
    assert left.id != came.id
