"""appointment.* events: what a booking, its end and its attendance send to the endpoints,
validated against the JSON Schema, in the full view and in a referrer's follow-up view."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI

from bot.appointments.service import Appointments
from bot.appointments.sessions import SessionRecord
from bot.channels.web.sessions import external_id_of
from bot.conversations.service import ConversationService
from bot.leads.payload import SCHEMA_PATH, iso
from flows.messages import Input
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.sessions import bookings_of, open_session
from tests.auxil.web_chat import SESSION, drive, token_of
from tests.auxil.webhook_receiver import Receiver, register_endpoint
from webhook.handoff.signing import new_secret
from webhook.handoff.worker import DeliveryWorker

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
COUNSELLOR = "conseillere@poles.example"
# The follow-up view of a lead: where the person stands, nothing they said.
FOLLOW_UP_KEYS = {
    "id", "created_at", "updated_at", "referrer_code", "status", "status_history", "site",
    "programmes", "appointment",
}  # fmt: skip


@pytest.fixture
def app(quiet_app: FastAPI) -> FastAPI:
    """The service without its delivery worker: these tests look at what is queued, or run
    the worker themselves."""
    return quiet_app


def appointments(app: FastAPI) -> Appointments:
    found: Appointments = app.state.conversations.appointments
    return found


async def events_for(app: FastAPI, endpoint_id: str, kind: str) -> list[dict[str, Any]]:
    """The bodies of one type queued for an endpoint, oldest first, each checked against the
    schema."""
    async with app.state.database.transaction() as tx:
        rows = await tx.fetch(
            "SELECT body FROM webhook_deliveries WHERE endpoint_id = :id AND event_type = :kind"
            " ORDER BY created_at, id",
            {"id": endpoint_id, "kind": kind},
        )
    events = [json.loads(row["body"]) for row in rows]
    for event in events:
        jsonschema.validate(event, SCHEMA)
        assert event["type"] == kind
    return events


async def change_date(app: FastAPI, booking_id: str, session: SessionRecord) -> str:
    """The person presses "Changer de date" under a reminder and picks that session; the new
    booking's id."""
    person = {"channel": "web", "external_id": external_id_of(token_of(SESSION))}
    conversations: ConversationService = app.state.conversations
    pressed = Input(command="appointment", payload=f"change:{booking_id}")
    await conversations.handle(**person, received=pressed)
    reply = await conversations.handle(**person, received=Input(choice=session.id))
    assert reply.booking is not None, [m.text for m in reply.messages]
    return reply.booking.id


async def booked_samir(app: FastAPI, client: httpx.AsyncClient) -> tuple[str, str, SessionRecord]:
    """Samir books the next École du Web session at Pantin in the web chat; the endpoint for
    every lead, the Mission locale's, and the session."""
    everything = await register_endpoint(app.state.database, name="CRM")
    mission_locale = await register_endpoint(
        app.state.database, name="Mission locale", referrer="ML_POISSY"
    )
    session = await open_session(appointments(app))
    await drive(client, SAMIR_IN_PANTIN)
    return everything, mission_locale, session


async def test_a_booking_sends_appointment_booked_with_the_lead_and_its_session(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    everything, mission_locale, session = await booked_samir(app, client)

    [booking] = await bookings_of(app.state.database, session.id)
    [full] = await events_for(app, everything, "appointment.booked")
    data = full["data"]
    assert data["status"] == "appointment"
    assert [c["status"] for c in data["status_history"]] == ["new", "appointment"]
    assert data["contact"]["phone"] == "+33612345678"
    assert data["appointment"] == {
        "id": booking.id,
        "status": "booked",
        "programme": "ecole_du_web",
        "channel": "web",
        "booked_at": iso(booking.booked_at),
        "confirmed_at": None,
        "session": {
            "id": session.id,
            "starts_at": iso(session.starts_at),
            "ends_at": iso(session.starts_at + timedelta(minutes=60)),
            "site": "pantin",
            "programmes": ["ecole_du_web"],
            "place": "12 rue Hoche, 93500 Pantin, salle 2",
            "video_url": None,
        },
    }

    # The Mission locale learns that its person booked, and when: not how they write to us.
    [follow_up] = await events_for(app, mission_locale, "appointment.booked")
    assert set(follow_up["data"]) == FOLLOW_UP_KEYS
    assert follow_up["data"]["status"] == "appointment"
    assert follow_up["data"]["appointment"] == {
        name: value for name, value in data["appointment"].items() if name != "channel"
    }
    shown = json.dumps(follow_up)
    for personal in ("Samir", "612345678", "postal_code", '"web"'):
        assert personal not in shown
    # The lead itself went out once, before the booking.
    assert len(await events_for(app, everything, "lead.created")) == 1


async def test_cancelling_rebooking_and_attendance_each_send_their_event(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    everything, mission_locale, first = await booked_samir(app, client)
    [booking] = await bookings_of(app.state.database, first.id)
    service = appointments(app)

    # "J'y serai", then another date for the same programme: the first seat is given back.
    await service.confirm(booking.id, by="person")
    later = await open_session(service, starts_at=first.starts_at + timedelta(days=7))
    second = await change_date(app, booking.id, later)
    [replaced] = await events_for(app, everything, "appointment.cancelled")
    assert replaced["data"]["appointment"]["id"] == booking.id
    assert replaced["data"]["appointment"]["status"] == "cancelled"
    assert replaced["data"]["appointment"]["confirmed_at"] is not None

    assert await service.mark_attendance(second, False, by=COUNSELLOR) is not None
    # A counsellor's correction: present after all.
    assert await service.mark_attendance(second, True, by=COUNSELLOR) is not None
    [missed] = await events_for(app, everything, "appointment.missed")
    [attended] = await events_for(app, everything, "appointment.attended")
    assert missed["data"]["appointment"]["status"] == "missed"
    assert attended["data"]["appointment"]["status"] == "attended"
    assert attended["data"]["appointment"]["session"]["id"] == later.id
    for kind in ("appointment.cancelled", "appointment.missed", "appointment.attended"):
        [follow_up] = await events_for(app, mission_locale, kind)
        assert "channel" not in follow_up["data"]["appointment"]


async def test_a_cancelled_session_sends_appointment_cancelled_to_each_booked_person(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    everything, _, session = await booked_samir(app, client)

    # (How many were told depends on the channels that can write: not the point here.)
    assert await appointments(app).cancel_session(session.id, by=COUNSELLOR) is not None

    [cancelled] = await events_for(app, everything, "appointment.cancelled")
    assert cancelled["data"]["appointment"]["status"] == "cancelled"
    assert cancelled["data"]["appointment"]["session"]["id"] == session.id


async def test_appointment_events_reach_a_real_endpoint_signed_with_standard_webhooks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    receiver = Receiver()
    secret = new_secret()
    with receiver.running() as url:
        await register_endpoint(app.state.database, url, secret=secret)
        session = await open_session(appointments(app))
        await drive(client, SAMIR_IN_PANTIN)
        [booking] = await bookings_of(app.state.database, session.id)
        await appointments(app).cancel_booking(booking.id, by=COUNSELLOR)
        worker = DeliveryWorker(app.state.database, poll_seconds=0.05)
        async with worker.running():
            await receiver.wait_for(3)
    events = receiver.verified(secret)
    for event in events:
        jsonschema.validate(event, SCHEMA)
    by_type = {event["type"]: event for event in events}
    assert set(by_type) == {"lead.created", "appointment.booked", "appointment.cancelled"}
    assert by_type["appointment.booked"]["data"]["appointment"]["id"] == booking.id
    assert by_type["appointment.cancelled"]["data"]["appointment"]["status"] == "cancelled"


async def test_the_schema_refuses_an_appointment_event_that_breaks_its_promises(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    everything, mission_locale, _ = await booked_samir(app, client)
    [full] = await events_for(app, everything, "appointment.booked")
    [follow_up] = await events_for(app, mission_locale, "appointment.booked")

    def refused(event: dict[str, Any], change: Any) -> None:
        broken = copy.deepcopy(event)
        change(broken["data"])
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)

    refused(full, lambda data: data.pop("appointment"))
    refused(full, lambda data: data["appointment"].pop("channel"))
    refused(full, lambda data: data["appointment"].update(status="maybe"))
    refused(full, lambda data: data["appointment"]["session"].pop("starts_at"))
    refused(full, lambda data: data["appointment"]["session"].update(video_url="http://x.example"))
    # A referrer is never sent the channel, nor anything personal.
    refused(follow_up, lambda data: data["appointment"].update(channel="web"))
    refused(follow_up, lambda data: data.update(contact={"phone": "+33612345678"}))
    # lead.* events are not held to carry a booking.
    lead_event = {**full, "type": "lead.updated"}
    jsonschema.validate(lead_event, SCHEMA)
