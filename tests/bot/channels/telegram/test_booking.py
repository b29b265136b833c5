"""Booking a session on Telegram: dates as buttons, the confirmation, the calendar file as a
document, and appointment.booked delivered signed."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import utcnow
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.sessions import bookings_of, open_session
from tests.auxil.telegram_chat import converse
from tests.auxil.telegram_harness import TelegramHarness
from tests.auxil.webhook_receiver import Receiver, register_endpoint
from webhook.handoff.signing import new_secret


async def test_a_person_books_on_telegram_and_gets_the_calendar_file(
    telegram: TelegramHarness,
) -> None:
    app = telegram.app
    appointments = app.state.conversations.appointments
    starts_at = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    session = await open_session(appointments, starts_at=starts_at)
    receiver, secret = Receiver(), new_secret()
    with receiver.running() as hook:
        await register_endpoint(app.state.database, hook, secret=secret)

        state = await converse(telegram, SAMIR_IN_PANTIN, "/start")

        assert state.done
        assert state.answers["session"] == session.id
        texts = [c.params.get("text", "") for c in telegram.recorder.calls_to("sendMessage")]
        assert any("C'est réservé ✅" in t for t in texts)
        [document] = telegram.recorder.calls_to("sendDocument")
        assert document.params["caption"] == "Ajouter à mon agenda"
        [booking] = await bookings_of(app.state.database, session.id)
        assert booking.channel == "telegram"
        assert booking.sms_phone is None  # a messenger reminds in the chat itself

        await app.state.deliveries.deliver_due()
        await receiver.wait_for(2)
        await app.state.deliveries.close()
    events = {e["type"]: e["data"] for e in receiver.verified(secret)}
    assert set(events) == {"lead.created", "appointment.booked"}
    booked = events["appointment.booked"]
    assert booked["status"] == "appointment"
    assert booked["appointment"]["session"]["id"] == session.id
    assert booked["appointment"]["channel"] == "telegram"
