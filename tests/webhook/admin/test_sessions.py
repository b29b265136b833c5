"""Counsellors run sessions in the admin view: open one, see its seats, move or cancel it (the
booked people are told), and mark who came (a no-show gets one kind message)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bot.accounts.audit_log import newest_lines
from bot.appointments.sessions import SessionRecord
from bot.clock import PARIS, utcnow
from bot.leads.store import read_lead
from bot.messaging import outbox
from tests.auxil.admin_browser import Account, csrf_of, sign_in
from tests.auxil.bookings import book_soonest
from tests.auxil.clock import ManualClock
from tests.auxil.sessions import bookings_of, open_session, session_now

SESSION_LINK = re.compile(r'href="/admin/sessions/([0-9a-f]{32})"')


@pytest.fixture
def clock() -> ManualClock:
    """The admin view's time, moved by the tests past a session's start."""
    return ManualClock()


def in_paris(moment: datetime) -> dict[str, str]:
    local = moment.astimezone(PARIS)
    return {"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M")}


def a_form(token: str, **changes: Any) -> dict[str, Any]:
    """The form as a counsellor fills it: Pantin, the École du Web, in three days at 10:00."""
    day = (utcnow() + timedelta(days=3)).astimezone(PARIS)
    form: dict[str, Any] = {
        "csrf_token": token,
        "programme": ["ecole_du_web", "fabrique_numerique"],
        "site": "pantin",
        "date": day.strftime("%Y-%m-%d"),
        "time": "10:00",
        "duration": "90",
        "capacity": "12",
        "place": "12 rue Hoche, 93500 Pantin, salle 2",
        "video": "",
    }
    return form | changes


async def signed_in(http: httpx.AsyncClient, account: Account, *sites: str) -> str:
    """A counsellor of these sites, signed in; the session's CSRF token."""
    await sign_in(http, await account("counsellor", sites=list(sites)))
    return await csrf_of(http, "/admin/sessions")


async def telegram_booking(admin_app: FastAPI, session: SessionRecord, chat: str = "4242") -> str:
    """Someone on Telegram books the session; their booking's id."""
    await book_soonest(admin_app.state.conversations, "telegram", chat)
    [booking] = [b for b in await bookings_of(admin_app.state.database, session.id)
                 if b.external_id == chat]  # fmt: skip
    return booking.id


async def telegram_texts(admin_app: FastAPI, chat: str) -> list[str]:
    """What is waiting in the outbox for a Telegram chat, in order."""
    database = admin_app.state.database
    found = []
    for _ in range(50):
        due = await outbox.due_ids(database, "telegram", now=utcnow(), limit=50)
        if not due:
            return found
        for message_id in due:
            message = await outbox.claim(database, message_id, now=utcnow())
            assert message is not None
            async with database.transaction() as tx:
                await outbox.mark_sent(tx, [message.id], now=utcnow())
            if str(message.chat_id) == chat and "text" in message.payload:
                found.append(str(message.payload["text"]))
    raise AssertionError("the outbox does not empty")


async def audit_lines(admin_app: FastAPI) -> list[tuple[str, str | None, str | None]]:
    async with admin_app.state.database.transaction() as tx:
        lines = await newest_lines(tx, 50)
    return [(line.action, line.lead_id, line.detail) for line in lines]


async def test_a_visitor_is_sent_to_sign_in_and_a_partner_is_refused(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    session = await open_session(admin_app.state.conversations.appointments)
    for path in ("/admin/sessions", f"/admin/sessions/{session.id}"):
        response = await http.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login?next=%2Fadmin%2Fsessions")
    await sign_in(http, await account("partner", referrers=["ML_POISSY"]))
    assert (await http.get("/admin/sessions")).status_code == 403


async def test_a_counsellor_opens_a_session_and_sees_its_seats(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    token = await signed_in(http, account, "pantin")
    page = await http.get("/admin/sessions")
    assert "Aucune séance à venir." in page.text
    # Their own sites only in the form's select.
    assert 'value="pantin"' in page.text
    assert 'value="poissy"' not in page.text

    opened = await http.post("/admin/sessions", data=a_form(token))
    assert opened.status_code == 303
    session_id = opened.headers["location"].split("/")[-1].split("?")[0]
    session = await session_now(admin_app.state.database, session_id)
    assert session.programmes == ("ecole_du_web", "fabrique_numerique")
    assert session.starts_at.astimezone(PARIS).strftime("%H:%M") == "10:00"
    assert (session.site, session.capacity, session.duration_minutes) == ("pantin", 12, 90)
    shown = await http.get(opened.headers["location"])
    assert "Séance ouverte" in shown.text

    await book_soonest(admin_app.state.conversations, "telegram", "4242")
    listed = await http.get("/admin/sessions")
    row = listed.text.split(f'id="session-{session_id}"')[1].split("</tr>")[0]
    cells = re.findall(r"<td>(\d+)</td>", row)
    # Capacity, taken, left.
    assert cells == ["12", "1", "11"]
    assert "L&#39;École du Web, La Fabrique numérique" in row
    assert ("open_session", None, session_id) in await audit_lines(admin_app)


async def test_a_full_session_says_so(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    session = await open_session(admin_app.state.conversations.appointments, capacity=1)
    await book_soonest(admin_app.state.conversations, "telegram", "4242")
    await signed_in(http, account, "pantin")
    row = (await http.get("/admin/sessions")).text.split(f'id="session-{session.id}"')[1]
    assert "complet" in row.split("</tr>")[0]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"programme": []}, "Programmes : cochez-en au moins un."),
        ({"programme": ["astrologie"]}, "Programmes : cochez-en au moins un."),
        ({"site": "poissy"}, "Site : choisissez l&#39;un de vos sites."),
        ({"date": "12/05/2026"}, "Date : une date au format jj/mm/aaaa."),
        ({"time": "25:00"}, "Heure : une heure au format hh:mm."),
        ({"date": "2020-01-06"}, "Date et heure : la séance doit être à venir."),
        # The night the clocks go forward, 02:30 never happens in Paris.
        ({"date": "2030-03-31", "time": "02:30"}, "Heure : cette heure n&#39;existe pas"),
        ({"capacity": "douze"}, "Places : un nombre entier de 1 à 500."),
        ({"capacity": "0"}, "Places : un nombre entier de 1 à 500."),
        ({"duration": "2000"}, "Durée : un nombre de minutes de 5 à 480."),
        ({"place": "", "video": ""}, "Lieu : une adresse"),
        ({"video": "http://visio.example/abc"}, "Lien de visio : une adresse https://"),
    ],
)
async def test_a_wrong_field_is_named_and_the_form_kept(
    admin_app: FastAPI,
    http: httpx.AsyncClient,
    account: Account,
    changes: dict[str, Any],
    named: str,
) -> None:
    token = await signed_in(http, account, "pantin")
    refused = await http.post("/admin/sessions", data=a_form(token, **changes))
    assert refused.status_code == 400
    assert named in refused.text
    assert 'aria-invalid="true"' in refused.text or "programme" in str(changes)
    # What was typed is still there, to correct.
    kept = a_form(token, **changes)
    if kept["place"]:
        assert 'value="12 rue Hoche, 93500 Pantin, salle 2"' in refused.text
    assert "Aucune séance à venir." in refused.text


async def test_an_unreadable_time_is_the_only_thing_said_wrong(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    token = await signed_in(http, account, "pantin")
    refused = await http.post("/admin/sessions", data=a_form(token, time="", capacity=""))
    assert refused.status_code == 400
    errors = re.findall(r'<span class="error" id="error-(\w+)">', refused.text)
    assert errors == ["time", "capacity"]


async def test_a_form_without_its_csrf_token_changes_nothing(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    session = await open_session(admin_app.state.conversations.appointments)
    booking_id = await telegram_booking(admin_app, session)
    session = await session_now(admin_app.state.database, session.id)
    await signed_in(http, account, "pantin")
    for path, data in [
        ("/admin/sessions", a_form("")),
        (f"/admin/sessions/{session.id}/cancel", {"confirm": "yes"}),
        (f"/admin/sessions/{session.id}/move", in_paris(session.starts_at + timedelta(days=1))),
        (f"/admin/sessions/{session.id}/bookings/{booking_id}/attendance", {"attended": "no"}),
    ]:
        for forged in ({}, {"csrf_token": "forged"}):
            refused = await http.post(path, data={**data, **forged})
            assert refused.status_code == 403, path
            assert "Formulaire expiré" in refused.text
    assert await session_now(admin_app.state.database, session.id) == session
    [booking] = await bookings_of(admin_app.state.database, session.id)
    assert booking.status == "booked"


async def test_another_sites_counsellor_finds_nothing_and_changes_nothing(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, clock: ManualClock
) -> None:
    session = await open_session(admin_app.state.conversations.appointments)
    booking_id = await telegram_booking(admin_app, session)
    session = await session_now(admin_app.state.database, session.id)
    clock.advance(timedelta(days=4))
    token = await signed_in(http, account, "poissy")
    listed = await http.get("/admin/sessions")
    assert session.id not in listed.text
    assert (await http.get(f"/admin/sessions/{session.id}")).status_code == 404
    for path, data in [
        (f"/admin/sessions/{session.id}/cancel", {"confirm": "yes"}),
        (f"/admin/sessions/{session.id}/move", in_paris(session.starts_at + timedelta(days=1))),
        (f"/admin/sessions/{session.id}/bookings/{booking_id}/attendance", {"attended": "no"}),
    ]:
        response = await http.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 404, path
    assert await session_now(admin_app.state.database, session.id) == session
    # A guessed id is as unknown.
    assert (await http.get("/admin/sessions/" + "0" * 32)).status_code == 404
    assert (await http.get("/admin/sessions/" + "x" * 3000)).status_code == 404


async def test_an_admin_sees_every_sites_sessions(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    appointments = admin_app.state.conversations.appointments
    pantin = await open_session(appointments)
    poissy = await open_session(appointments, site="poissy")
    await sign_in(http, await account("admin"))
    listed = (await http.get("/admin/sessions")).text
    assert set(SESSION_LINK.findall(listed)) == {pantin.id, poissy.id}
    assert 'value="poissy"' in listed
    assert (await http.get(f"/admin/sessions/{poissy.id}")).status_code == 200


async def test_cancelling_asks_first_then_tells_the_booked_people(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    session = await open_session(admin_app.state.conversations.appointments)
    await telegram_booking(admin_app, session)
    await telegram_texts(admin_app, "4242")  # the conversation itself
    token = await signed_in(http, account, "pantin")

    asked = await http.post(f"/admin/sessions/{session.id}/cancel", data={"csrf_token": token})
    assert asked.status_code == 200
    assert "1 personne a réservé" in asked.text
    assert (await session_now(admin_app.state.database, session.id)).status == "open"

    done = await http.post(
        f"/admin/sessions/{session.id}/cancel", data={"csrf_token": token, "confirm": "yes"}
    )
    assert done.status_code == 303
    listed = await http.get(done.headers["location"])
    assert "Séance annulée." in listed.text
    assert "1 personne prévenue" in listed.text
    assert session.id not in listed.text
    assert (await session_now(admin_app.state.database, session.id)).status == "cancelled"
    [told] = await telegram_texts(admin_app, "4242")
    assert "est annulée" in told
    assert ("cancel_session", None, f"{session.id} told 1") in await audit_lines(admin_app)
    # Twice: nothing more to cancel.
    again = await http.post(
        f"/admin/sessions/{session.id}/cancel", data={"csrf_token": token, "confirm": "yes"}
    )
    assert again.status_code == 409


async def test_moving_tells_the_booked_people_the_new_date(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    session = await open_session(admin_app.state.conversations.appointments)
    await telegram_booking(admin_app, session)
    await telegram_texts(admin_app, "4242")
    token = await signed_in(http, account, "pantin")
    new_start = (session.starts_at + timedelta(days=1)).replace(second=0)

    moved = await http.post(
        f"/admin/sessions/{session.id}/move", data={"csrf_token": token, **in_paris(new_start)}
    )
    assert moved.status_code == 303
    page = await http.get(moved.headers["location"])
    assert "Séance déplacée." in page.text
    assert "1 personne prévenue" in page.text
    assert (await session_now(admin_app.state.database, session.id)).starts_at == new_start
    [told] = await telegram_texts(admin_app, "4242")
    assert "est déplacée" in told

    past = await http.post(
        f"/admin/sessions/{session.id}/move",
        data={"csrf_token": token, **in_paris(utcnow() - timedelta(days=1))},
    )
    assert past.status_code == 400
    assert "Date et heure : la séance doit être à venir." in past.text
    unreadable = await http.post(
        f"/admin/sessions/{session.id}/move",
        data={"csrf_token": token, "date": "demain", "time": "10:00"},
    )
    assert unreadable.status_code == 400
    assert "Date : une date au format" in unreadable.text
    assert (await session_now(admin_app.state.database, session.id)).starts_at == new_start


async def test_attendance_is_marked_once_the_session_began_and_a_no_show_is_kindly_written_to(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, clock: ManualClock
) -> None:
    # In two hours: the sign-in still holds when the clock passes its start.
    session = await open_session(
        admin_app.state.conversations.appointments,
        starts_at=(utcnow() + timedelta(hours=2)).replace(microsecond=0),
    )
    came = await telegram_booking(admin_app, session, "4242")
    missed = await telegram_booking(admin_app, session, "5353")
    await telegram_texts(admin_app, "5353")
    token = await signed_in(http, account, "pantin")
    attendance = f"/admin/sessions/{session.id}/bookings/{{}}/attendance"

    page = await http.get(f"/admin/sessions/{session.id}")
    assert page.text.count("Samir") >= 2
    assert "Telegram" in page.text
    assert "Les présences se notent une fois la séance commencée." in page.text
    assert 'value="yes"' not in page.text
    early = await http.post(attendance.format(came), data={"csrf_token": token, "attended": "yes"})
    assert early.status_code == 409

    clock.advance(session.starts_at - utcnow() + timedelta(minutes=30))
    page = await http.get(f"/admin/sessions/{session.id}")
    assert page.text.count('value="yes"') == 2

    present = await http.post(
        attendance.format(came), data={"csrf_token": token, "attended": "yes"}
    )
    assert present.status_code == 303
    assert "Présence enregistrée." in (await http.get(present.headers["location"])).text
    absent = await http.post(
        attendance.format(missed), data={"csrf_token": token, "attended": "no"}
    )
    assert absent.status_code == 303
    statuses = {b.id: b.status for b in await bookings_of(admin_app.state.database, session.id)}
    assert statuses == {came: "attended", missed: "missed"}
    [kind] = await telegram_texts(admin_app, "5353")
    assert "On ne t'a pas vu·e" in kind
    assert await telegram_texts(admin_app, "4242") == []

    # A second click sends nothing again; a mistake is corrected.
    again = await http.post(attendance.format(missed), data={"csrf_token": token, "attended": "no"})
    assert again.status_code == 303
    assert await telegram_texts(admin_app, "5353") == []
    corrected = await http.post(
        attendance.format(missed), data={"csrf_token": token, "attended": "yes"}
    )
    assert corrected.status_code == 303
    [booking] = [b for b in await bookings_of(admin_app.state.database, session.id)
                 if b.id == missed]  # fmt: skip
    assert booking.status == "attended"
    async with admin_app.state.database.transaction() as tx:
        lead = await read_lead(tx, booking.lead_id)
    assert ("mark_attendance", lead.id, f"{missed} missed") in await audit_lines(admin_app)

    # Not a choice, or a booking of another session: refused.
    assert (
        await http.post(attendance.format(came), data={"csrf_token": token, "attended": "maybe"})
    ).status_code == 400
    assert (
        await http.post(attendance.format("0" * 32), data={"csrf_token": token, "attended": "no"})
    ).status_code == 404


async def test_the_pages_say_when_reminders_do_not_go_by_sms(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    session = await open_session(admin_app.state.conversations.appointments)
    await signed_in(http, account, "pantin")
    notice = "Les rappels ne partent pas par SMS"
    assert notice in (await http.get("/admin/sessions")).text
    assert notice in (await http.get(f"/admin/sessions/{session.id}")).text
    admin_app.state.settings = admin_app.state.settings.model_copy(
        update={"sms_api_key": SecretStr("xkeysib-test")}
    )
    assert notice not in (await http.get("/admin/sessions")).text
    assert notice not in (await http.get(f"/admin/sessions/{session.id}")).text


async def test_the_pages_open_in_english_too(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    session = await open_session(admin_app.state.conversations.appointments)
    await book_soonest(admin_app.state.conversations, "telegram", "4242")
    await signed_in(http, account, "pantin")
    for path in ("/admin/sessions?lang=en", f"/admin/sessions/{session.id}?lang=en"):
        page = await http.get(path)
        assert page.status_code == 200, path
        assert '<html lang="en">' in page.text
