"""The page an SMS reminder's link opens: the appointment, "J'y serai" and "Je ne peux plus
venir", for the one booking its signed token names, until the day after the session."""

from __future__ import annotations

import base64
import html
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from bot.appointments.bookings import BookingRecord, get_booking
from bot.appointments.links import booking_link, expires_at, make_token, read_token
from bot.appointments.sessions import SessionRecord, get_session
from bot.channels.sms.queue import queue_sms
from bot.clock import PARIS, utcnow
from bot.settings import Settings
from bot.storage.database import Database
from flows.offers import spoken_datetime
from tests.auxil.sessions import web_chat_booking
from tests.auxil.sms_payloads import PERSON, PERSON_DIGITS
from webhook.app import create_app


@dataclass
class Clock:
    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Served:
    http: httpx.AsyncClient
    app: FastAPI
    clock: Clock
    booking: BookingRecord
    session: SessionRecord

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    @property
    def key(self) -> bytes:
        return str(self.app.state.signing_key.value.get_secret_value()).encode()

    @property
    def token(self) -> str:
        return make_token(self.booking.id, self.session.ends_at, self.key)

    @property
    def url(self) -> str:
        return f"/rdv/{self.token}"

    async def booking_now(self) -> BookingRecord:
        async with self.database.transaction() as tx:
            found = await get_booking(tx, self.booking.id)
        assert found is not None
        return found

    async def seats_taken(self) -> int:
        async with self.database.transaction() as tx:
            found = await get_session(tx, self.session.id)
        assert found is not None
        return found.seats_taken

    async def answer(self, action: str, csrf: str | None = None) -> httpx.Response:
        if csrf is None:
            csrf = csrf_of(await self.http.get(self.url))
        return await self.http.post(self.url, data={"action": action, "csrf": csrf})


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found, page.text
    return found.group(1)


def visible(page: httpx.Response) -> str:
    """The page's text as read on screen."""
    without_style = re.sub(r"<style>.*?</style>", " ", page.text, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", without_style)))


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    clock = Clock()
    app = create_app(settings, background=False, clock=clock)
    async with app.router.lifespan_context(app):
        starts_at = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
        booking, session = await web_chat_booking(
            app.state.database, starts_at=starts_at, sms_phone=PERSON
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Served(http, app, clock, booking, session)


async def test_the_link_shows_the_appointment_and_the_two_answers(served: Served) -> None:
    page = await served.http.get(served.url)

    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    text = visible(page)
    assert spoken_datetime(served.session.starts_at, "fr") in text
    assert "12 rue Hoche, 93500 Pantin, salle 2" in text
    assert "J'y serai" in text
    assert "Je ne peux plus venir" in text
    # Nothing about the person: not their number, nor anything else.
    assert PERSON_DIGITS[2:] not in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "form-action 'self'" in page.headers["content-security-policy"]


async def test_opening_the_link_changes_nothing(served: Served) -> None:
    for _ in range(3):  # a phone's preview, a scanner, the person
        await served.http.get(served.url)
    booking = await served.booking_now()
    assert booking.status == "booked"
    assert booking.confirmed_at is None


async def test_j_y_serai_confirms_the_booking(served: Served) -> None:
    page = await served.answer("confirm")

    assert page.status_code == 200
    assert "C'est noté, merci" in visible(page)
    assert (await served.booking_now()).confirmed_at is not None
    # Still answerable: plans change.
    assert "Je ne peux plus venir" in visible(page)


async def test_je_ne_peux_plus_venir_frees_the_seat_at_once(served: Served) -> None:
    assert await served.seats_taken() == 1

    page = await served.answer("cancel")

    assert page.status_code == 200
    text = visible(page)
    assert "ta place est libérée" in text
    assert "un conseiller peut te proposer une autre date" in text.lower()
    assert "J'y serai" not in text
    assert (await served.booking_now()).status == "cancelled"
    assert await served.seats_taken() == 0
    # The link still opens, and says the appointment is off.
    again = await served.http.get(served.url)
    assert "n'est plus prévu" in visible(again)
    assert "J'y serai" not in visible(again)


async def test_an_answer_without_the_pages_field_is_refused(served: Served) -> None:
    missing = await served.http.post(served.url, data={"action": "cancel"})
    wrong = await served.answer("cancel", csrf="0" * 32)
    other = await served.http.post(
        served.url,
        data={"action": "cancel", "csrf": csrf_of(await served.http.get(served.url))[::-1]},
    )

    assert [missing.status_code, wrong.status_code, other.status_code] == [403, 403, 403]
    assert "ouvre à nouveau le lien" in visible(missing)
    assert (await served.booking_now()).status == "booked"


async def test_no_more_sms_from_the_page(served: Served) -> None:
    page = await served.answer("stop_sms")

    assert "tu ne recevras plus de SMS" in visible(page)
    async with served.database.transaction() as tx:
        assert not await queue_sms(tx, booking_id=None, phone=PERSON, text="x", now=utcnow())


async def test_the_link_works_until_the_end_of_the_day_after_the_session(served: Served) -> None:
    ends = served.session.ends_at.astimezone(PARIS)
    last = expires_at(served.session.ends_at)
    assert last.date() == ends.date() + timedelta(days=2)
    assert (last.hour, last.minute) == (0, 0)

    served.clock.now = last - timedelta(minutes=1)
    assert (await served.http.get(served.url)).status_code == 200

    served.clock.now = last
    page = await served.http.get(served.url)
    assert page.status_code == 404
    assert "Ce lien ne marche plus" in visible(page)
    posted = await served.http.post(served.url, data={"action": "cancel", "csrf": "x"})
    assert posted.status_code == 404
    assert (await served.booking_now()).status == "booked"


def flipped(token: str, at: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[at] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).decode()


async def test_a_forged_or_broken_link_gets_the_kind_page_never_an_error(served: Served) -> None:
    token = served.token
    later = make_token(served.booking.id, served.session.ends_at + timedelta(days=365), b"other")
    forged = [
        flipped(token, 0),  # another booking's id
        flipped(token, 17),  # a later expiry
        flipped(token, 30),  # the signature
        later,  # signed with another key
        make_token("f" * 32, served.session.ends_at, served.key),  # genuine, unknown booking
        token[:-1],
        token + "A",
        "é" * 48,
        "%00" * 16,
        "x",
    ]
    for bad in forged:
        page = await served.http.get(f"/rdv/{bad}")
        assert page.status_code == 404, bad
        assert "Ce lien ne marche plus" in visible(page)
        answered = await served.http.post(f"/rdv/{bad}", data={"action": "cancel"})
        assert answered.status_code == 404, bad
    assert (await served.booking_now()).status == "booked"


async def test_one_address_trying_link_after_link_is_slowed_down(served: Served) -> None:
    statuses = [(await served.http.get(f"/rdv/{'A' * 48}")).status_code for _ in range(25)]
    assert statuses[:20] == [404] * 20
    assert statuses[-1] == 429
    refused = await served.http.get(served.url)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "Réessaie dans une minute" in visible(refused)


async def test_the_token_stays_out_of_the_access_log(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webhook.access_log")
    await served.http.get(served.url)
    logged = " ".join(repr(record.__dict__) for record in caplog.records)
    assert served.token not in logged
    assert "/rdv/…" in logged


def test_a_link_is_the_public_address_and_48_url_safe_characters() -> None:
    key = b"k" * 48
    ends = datetime(2027, 3, 28, 11, 0, tzinfo=PARIS)  # the morning clocks go forward
    link = booking_link("https://aiguillage.example/", "a" * 32, ends, key)
    token = link.removeprefix("https://aiguillage.example/rdv/")
    assert re.fullmatch(r"[A-Za-z0-9_-]{48}", token)
    assert booking_link(None, "a" * 32, ends, key) == f"/rdv/{token}"
    assert read_token(token, key, now=datetime(2027, 3, 29, 23, 59, tzinfo=PARIS)) == "a" * 32
    assert read_token(token, key, now=datetime(2027, 3, 30, 0, 0, tzinfo=PARIS)) is None
    with pytest.raises(ValueError, match="hexadecimal"):
        make_token("not-an-id", ends, key)
