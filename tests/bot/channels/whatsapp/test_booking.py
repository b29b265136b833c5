"""Booking a session on WhatsApp: dates as buttons, the confirmation, the calendar file
uploaded and sent as a document."""

from __future__ import annotations

from datetime import timedelta

from bot.channels.whatsapp import CHANNEL
from bot.clock import utcnow
from tests.auxil import whatsapp_payloads as wa
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from tests.auxil.sessions import bookings_of, open_session
from tests.auxil.webhook_receiver import Receiver, register_endpoint
from tests.auxil.whatsapp_chat import answer_message
from tests.auxil.whatsapp_harness import WhatsAppHarness
from webhook.handoff.signing import new_secret

PERSON = wa.USER_WA_ID


async def test_a_person_books_on_whatsapp_and_gets_the_calendar_file(
    whatsapp: WhatsAppHarness,
) -> None:
    app = whatsapp.app
    starts_at = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    session = await open_session(app.state.conversations.appointments, starts_at=starts_at)
    receiver, secret = Receiver(), new_secret()
    with receiver.running() as hook:
        await register_endpoint(app.state.database, hook, secret=secret)

        shown = await whatsapp.send(wa.text_message("Bonjour", wa_id=PERSON))
        for _ in range(40):
            async with app.state.database.transaction() as tx:
                peeked = await app.state.conversations.peek(tx, channel=CHANNEL, external_id=PERSON)
            assert peeked is not None
            state, messages = peeked
            if state.done:
                break
            question = messages[-1].question
            assert question is not None
            asked = question.model_dump()
            answer = answer_message(
                shown[-1], asked, answer_for(asked, SAMIR_IN_PANTIN), wa_id=PERSON
            )
            shown = await whatsapp.send(answer)
        else:
            raise AssertionError("the conversation did not end")

        assert state.answers["session"] == session.id
        texts = [m.get("text", {}).get("body", "") for m in whatsapp.fake.messages()]
        assert any("C'est réservé ✅" in t for t in texts)
        [document] = [m for m in whatsapp.fake.messages() if m.get("type") == "document"]
        assert document["document"]["filename"] == "rendez-vous.ics"
        [upload] = whatsapp.fake.media
        assert b"BEGIN:VCALENDAR" in upload.content
        [booking] = await bookings_of(app.state.database, session.id)
        assert (booking.channel, booking.external_id) == ("whatsapp", PERSON)

        await app.state.deliveries.deliver_due()
        await receiver.wait_for(2)
        await app.state.deliveries.close()
    events = {e["type"]: e["data"] for e in receiver.verified(secret)}
    assert set(events) == {"lead.created", "appointment.booked"}
    assert events["appointment.booked"]["appointment"]["channel"] == "whatsapp"
