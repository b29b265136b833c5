"""What the counsellors' pages read of sessions: seats, sites, and who booked."""

from __future__ import annotations

from datetime import timedelta

from bot.appointments.queries import (
    booked_people,
    session_within,
    sessions_page,
    upcoming_sessions,
)
from bot.clock import utcnow
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.leads.handoff import LeadHandoff
from bot.storage.database import Database
from tests.auxil.service_chat import finish_as_lead
from tests.auxil.sessions import open_session


async def a_service(database: Database) -> ConversationService:
    service = ConversationService(database, FlowRegistry(), handoff=LeadHandoff())
    await service.prepare()
    return service


async def test_sessions_come_soonest_first_with_their_seats_within_the_sites_asked(
    database: Database,
) -> None:
    service = await a_service(database)
    now = utcnow()
    later = await open_session(service.appointments, starts_at=now + timedelta(days=9))
    sooner = await open_session(service.appointments, starts_at=now + timedelta(days=2))
    poissy = await open_session(
        service.appointments, starts_at=now + timedelta(days=5), site="poissy"
    )
    await finish_as_lead(service, "samir")  # books the soonest Pantin session

    async with database.transaction() as tx:
        everywhere = await upcoming_sessions(tx, now=now)
        pantin = await upcoming_sessions(tx, now=now, sites=["pantin"])
        nowhere = await upcoming_sessions(tx, now=now, sites=[])
    assert [s.id for s in everywhere] == [sooner.id, poissy.id, later.id]
    assert [s.id for s in pantin] == [sooner.id, later.id]
    assert nowhere == []
    assert (pantin[0].seats_taken, pantin[0].seats_left) == (1, 11)


async def test_sessions_just_held_stay_on_the_page_for_attendance_latest_first(
    database: Database,
) -> None:
    service = await a_service(database)
    now = utcnow()
    first = await open_session(service.appointments, starts_at=now + timedelta(days=1))
    second = await open_session(service.appointments, starts_at=now + timedelta(days=2))
    coming = await open_session(service.appointments, starts_at=now + timedelta(days=4))
    long_ago = await open_session(service.appointments, starts_at=now + timedelta(hours=2))

    three_days_on = now + timedelta(days=3)
    async with database.transaction() as tx:
        page = await sessions_page(tx, now=three_days_on, sites=None, recent=timedelta(days=2.5))
    assert [s.id for s in page.upcoming] == [coming.id]
    # Held more than the recent days ago: no longer listed.
    assert long_ago.id not in [s.id for s in page.recent]
    assert [s.id for s in page.recent] == [second.id, first.id]


async def test_another_sites_session_is_as_unknown_as_a_guessed_id(database: Database) -> None:
    service = await a_service(database)
    poissy = await open_session(service.appointments, site="poissy")
    async with database.transaction() as tx:
        assert await session_within(tx, poissy.id, sites=None) == poissy
        assert await session_within(tx, poissy.id, sites=["poissy", "gonesse"]) == poissy
        assert await session_within(tx, poissy.id, sites=["pantin"]) is None
        assert await session_within(tx, "0" * 32, sites=None) is None
        assert await session_within(tx, "x" * 5000, sites=None) is None


async def test_a_sessions_people_are_listed_with_first_name_channel_and_status(
    database: Database,
) -> None:
    service = await a_service(database)
    session = await open_session(service.appointments)
    await finish_as_lead(service, "samir")
    async with database.transaction() as tx:
        [samir] = await booked_people(tx, session.id)
    assert (samir.first_name, samir.channel, samir.status) == ("Samir", "web", "booked")
    assert samir.programme == "ecole_du_web"
    assert samir.confirmed_at is None
    # He agreed to SMS reminders; the page says so without showing his number.
    assert samir.by_sms

    cancelled = await service.appointments.cancel_booking(samir.booking_id, by="person")
    assert cancelled is not None
    async with database.transaction() as tx:
        [samir] = await booked_people(tx, session.id)
        other = await booked_people(tx, "0" * 32)
    assert samir.status == "cancelled"
    assert samir.ended_at is not None
    assert other == []
