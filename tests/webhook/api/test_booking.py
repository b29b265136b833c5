"""The web chat books a session end to end: the dates as choices of /api/chat, the calendar
link, appointment.booked signed, and an SMS reminder answered through its link."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from bot.appointments.bookings import get_booking
from bot.appointments.reminders import AppointmentReminderJob
from bot.channels.sms.runtime import SmsRuntime
from bot.clock import PARIS, utcnow
from bot.settings import Settings
from tests.auxil.fake_sms_api import FakeSmsApi
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from tests.auxil.running_app import running
from tests.auxil.sessions import bookings_of, open_session
from tests.auxil.virtual_clock import VirtualClock
from tests.auxil.web_chat import last_question, send
from tests.auxil.webhook_receiver import Receiver, register_endpoint
from webhook.app import create_app
from webhook.handoff.signing import new_secret

PUBLIC = "https://aiguillage.example"


async def test_a_web_chat_person_books_and_confirms_from_the_sms_reminder(
    settings: Settings,
) -> None:
    receiver, secret = Receiver(), new_secret()
    async with FakeSmsApi() as brevo:
        configured = settings.model_copy(
            update={
                "public_url": PUBLIC,
                "sms_api_key": SecretStr(brevo.api_key),
                "sms_api_url": brevo.api_url,
            }
        )
        app = create_app(configured, background=False)
        with receiver.running() as hook:
            async with running(app) as http:
                appointments = app.state.conversations.appointments
                start = (utcnow() + timedelta(days=3)).astimezone(PARIS)
                start = start.replace(hour=10, minute=0, second=0, microsecond=0)
                session = await open_session(appointments, starts_at=start)
                await register_endpoint(app.state.database, hook, secret=secret)

                reply = await send(http, "samir", command="start")
                asked: dict[str, Any] | None = last_question(reply)
                while asked is not None and asked["field"] != "session":
                    reply = await send(http, "samir", **answer_for(asked, SAMIR_IN_PANTIN))
                    asked = last_question(reply)
                assert asked is not None
                assert asked["kind"] == "choice"
                assert [c["value"] for c in asked["choices"]] == [session.id, "none"]

                reply = await send(http, "samir", choice=session.id)
                assert reply["done"]
                [calendar] = [m["link"] for m in reply["messages"] if m.get("link")]
                assert calendar["label"] == "Ajouter à mon agenda"
                ics = await http.get(calendar["url"].removeprefix(PUBLIC))
                assert ics.status_code == 200
                assert ics.headers["content-type"].startswith("text/calendar")
                assert b"BEGIN:VEVENT" in ics.content

                await app.state.deliveries.deliver_due()
                await receiver.wait_for(2)
                await app.state.deliveries.close()

                # The evening before, the reminder goes by SMS, with a link to answer it.
                [booking] = await bookings_of(app.state.database, session.id)
                clock = VirtualClock()
                clock.advance((start - timedelta(hours=15) - clock.utcnow()).total_seconds())
                appointments.clock = clock.utcnow
                assert await AppointmentReminderJob(appointments, app.state.database).run_due() == 1
                texting = SmsRuntime(configured, app.state.database, clock=clock)
                assert await texting.send_pending() == 1
                await texting.stop()
                [sms] = brevo.calls
                content = sms.body["content"]
                assert sms.body["recipient"] == "33612345678"
                assert "Petit rappel" in content
                assert "STOP" in content
                link = re.search(re.escape(PUBLIC) + r"(/rdv/[A-Za-z0-9_-]+)", content)
                assert link is not None, content

                page = await http.get(link.group(1))
                assert page.status_code == 200
                csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
                assert csrf is not None
                answered = await http.post(
                    link.group(1), data={"action": "confirm", "csrf": csrf.group(1)}
                )
                assert answered.status_code == 200
                async with app.state.database.transaction() as tx:
                    confirmed = await get_booking(tx, booking.id)
                assert confirmed is not None
                assert confirmed.confirmed_at is not None

    events = {e["type"]: e["data"] for e in receiver.verified(secret)}
    assert set(events) == {"lead.created", "appointment.booked"}
    assert events["appointment.booked"]["appointment"]["channel"] == "web"
