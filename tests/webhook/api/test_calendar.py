"""A web chat booking's calendar file, downloaded from its signed link: the file itself, and a
404 that says what is wrong with any other link; a script trying links meets the chat's limits."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from icalendar import Calendar
from playwright.async_api import Browser, Route

from bot.appointments import bookings, sessions
from bot.appointments.calendar_file import calendar_path
from bot.clock import PARIS, utcnow
from bot.settings import Settings
from bot.signing_key import SigningKey
from bot.storage.database import Database, open_database
from tests.auxil.chat_page import IDLE, PHONE, TURN_TIMEOUT_MS
from tests.auxil.page_problems import Problems
from tests.auxil.servers import serve
from tests.auxil.sessions import web_chat_booking
from webhook.api.calendar import (
    BOOKING_CANCELLED,
    INVALID_LINK,
    NO_BOOKING,
    SESSION_CANCELLED,
)
from webhook.app import create_app
from webhook.rate_limits import ChatLimits

BOOKED_AT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
STARTS_AT = datetime(2026, 5, 12, 8, 0, tzinfo=UTC)  # mardi 12 mai, 10 h à Paris
PLACE = "PôleS Pantin, 12 rue Hoche, 93500 Pantin"


@dataclass
class Clock:
    now: datetime = BOOKED_AT

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Booking:
    id: str
    session_id: str
    link: str


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, background=False, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def signing_key(app: FastAPI) -> bytes:
    key: SigningKey = app.state.signing_key
    return key.value.get_secret_value().encode("utf-8")


async def booked(
    app: FastAPI,
    *,
    language: str = "fr",
    database: Database | None = None,
    now: datetime = BOOKED_AT,
    starts_at: datetime = STARTS_AT,
) -> Booking:
    """A web chat person's seat at a Pantin session, and the link to its file."""
    booking, session = await web_chat_booking(
        database or app.state.database,
        starts_at=starts_at,
        now=now,
        language=language,
        place=PLACE,
        duration_minutes=90,
    )
    link = calendar_path(booking.id, session.ends_at, signing_key(app))
    return Booking(booking.id, session.id, link)


async def test_the_link_downloads_the_sessions_calendar_file(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    booking = await booked(app)

    response = await client.get(booking.link)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="rendez-vous.ics"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    [event] = Calendar.from_ical(response.content).events
    assert event.start == datetime(2026, 5, 12, 10, 0, tzinfo=PARIS)
    assert event.end - event.start == timedelta(minutes=90)
    assert event["LOCATION"] == PLACE
    assert booking.id in str(event["UID"])
    assert "L'École du Web" in str(event["SUMMARY"])
    assert "pièce d'identité" in str(event["DESCRIPTION"])


async def test_the_file_speaks_the_language_the_person_booked_in(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    french = await booked(app, language="fr")
    english = await booked(app, language="en")

    summaries = [
        str(Calendar.from_ical((await client.get(b.link)).content).events[0]["SUMMARY"])
        for b in (french, english)
    ]

    assert summaries == ["L'École du Web – PôleS", "The École du Web – PôleS"]


def forged(link: str) -> str:
    """The link with one character of its token changed."""
    head, _, token = link.rpartition("/")
    changed = ("A" if token[5] != "A" else "B").join((token[:5], token[6:]))
    return f"{head}/{changed}"


@pytest.mark.parametrize(
    "make_link",
    [
        forged,
        lambda link: link.replace(".ics", "x.ics"),  # too long
        lambda link: "/api/chat/calendar/not-a-token.ics",
    ],
)
async def test_a_forged_or_unknown_link_gets_a_404_naming_the_problem(
    app: FastAPI, client: httpx.AsyncClient, make_link: object
) -> None:
    booking = await booked(app)
    assert callable(make_link)

    response = await client.get(make_link(booking.link))

    assert response.status_code == 404
    assert response.json() == {"detail": INVALID_LINK}


async def test_a_link_stops_working_the_day_after_the_session(
    app: FastAPI, client: httpx.AsyncClient, clock: Clock
) -> None:
    booking = await booked(app)

    # Still there the evening after the session (13 May, 23:59 in Paris)...
    clock.now = datetime(2026, 5, 13, 21, 59, tzinfo=UTC)
    assert (await client.get(booking.link)).status_code == 200
    # ...and no more from the next midnight.
    clock.now = datetime(2026, 5, 13, 22, 0, tzinfo=UTC)
    response = await client.get(booking.link)

    assert response.status_code == 404
    assert response.json() == {"detail": INVALID_LINK}


async def test_a_cancelled_booking_or_session_is_said_so(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    cancelled_by_person = await booked(app)
    cancelled_by_poles = await booked(app)
    async with app.state.database.transaction() as tx:
        await bookings.end_booking(
            tx, cancelled_by_person.id, status=bookings.CANCELLED, by="person", now=BOOKED_AT
        )
        await sessions.cancel_session(tx, cancelled_by_poles.session_id, now=BOOKED_AT)

    person = await client.get(cancelled_by_person.link)
    poles = await client.get(cancelled_by_poles.link)

    assert (person.status_code, person.json()) == (404, {"detail": BOOKING_CANCELLED})
    assert (poles.status_code, poles.json()) == (404, {"detail": SESSION_CANCELLED})


async def test_an_erased_booking_is_said_so(app: FastAPI, client: httpx.AsyncClient) -> None:
    booking = await booked(app)
    async with app.state.database.transaction() as tx:
        await tx.execute("DELETE FROM appointment_bookings WHERE id = :id", {"id": booking.id})

    response = await client.get(booking.link)

    assert (response.status_code, response.json()) == (404, {"detail": NO_BOOKING})


async def test_trying_links_meets_the_chats_limit_per_address(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    booking = await booked(app)
    app.state.chat_limits = ChatLimits.from_settings(
        settings.model_copy(update={"chat_address_per_minute": 3})
    )

    statuses = [(await client.get(forged(booking.link))).status_code for _ in range(3)]
    refused = await client.get(booking.link)

    assert statuses == [404, 404, 404]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json()["detail"]["message"]


async def test_the_token_stays_out_of_the_access_log(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    booking = await booked(app)
    token = booking.link.rpartition("/")[2].removesuffix(".ics")
    caplog.set_level(logging.INFO, logger="webhook.access_log")

    assert (await client.get(booking.link)).status_code == 200

    logged = " ".join(repr(record.__dict__) for record in caplog.records)
    assert "/api/chat/calendar/…" in logged
    assert token not in logged


@pytest.mark.browser
async def test_the_web_chat_shows_the_link_under_its_message_and_it_downloads_the_file(
    chromium: Path, settings: Settings, browser: Browser
) -> None:
    """In a phone's browser: a reply whose message carries a link shows it as a link named
    for the file, and following it downloads the booking's calendar file from the service."""
    app = create_app(settings, background=False)
    database = open_database(settings.database_url)
    now = utcnow()
    booking = await booked(app, database=database, now=now, starts_at=now + timedelta(days=9))
    await database.close()
    confirmation = {
        "session": "calendar-test-session",
        "messages": [
            {
                "text": "C'est réservé ✅ L'École du Web",
                "link": {"url": booking.link, "label": "Ajouter à mon agenda"},
            }
        ],
        "done": False,
        "orientation": None,
    }

    async def reply_with_a_link(route: Route) -> None:
        # Only the conversation's answer is stubbed: the file comes from the real service.
        await route.fulfill(
            status=200, content_type="application/json", body=json.dumps(confirmation)
        )

    with serve(app) as url:
        context = await browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR", accept_downloads=True
        )
        page = await context.new_page()
        problems = Problems()
        problems.watch(page)
        try:
            await page.route(
                lambda address: urlsplit(address).path == "/api/chat", reply_with_a_link
            )
            await page.goto(f"{url}/")
            await page.wait_for_selector(IDLE, timeout=TURN_TIMEOUT_MS)

            link = page.get_by_test_id("bot-message").get_by_role(
                "link", name="Ajouter à mon agenda (.ics)"
            )
            assert await link.is_visible()
            assert (await link.get_attribute("href") or "").endswith(booking.link)
            async with page.expect_download() as downloading:
                await link.click()
            download = await downloading.value
            content = await asyncio.to_thread(Path(await download.path()).read_bytes)

            assert download.suggested_filename == "rendez-vous.ics"
            [event] = Calendar.from_ical(content).events
            assert booking.id in str(event["UID"])
            # Chromium reports a navigation that became a download as aborted: not a problem.
            assert [found for found in problems.found if booking.link not in found] == []
        finally:
            await context.close()
