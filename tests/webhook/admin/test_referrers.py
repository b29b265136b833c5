"""The referrers page: what each code brought, its links, its QR codes and its poster."""

from __future__ import annotations

import html
import io
import re
import struct
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import segno
from fastapi import FastAPI
from pydantic import SecretStr

from bot.appointments.bookings import bookings_of_lead
from bot.channels.web.sessions import external_id_of
from bot.clock import utcnow
from bot.conversations.repository import find
from bot.conversations.service import ConversationService
from bot.leads.store import lead_of_conversation
from flows.messages import Input
from tests.auxil.admin_browser import PROFILE, Account, sign_in
from tests.auxil.funnel_data import converse
from tests.auxil.sessions import open_session
from tests.auxil.web_chat import drive, lead_of_session, send, token_of

TELEGRAM_LINK = "https://t.me/AiguillageBot?start=ML_POISSY"
# A chat with the business number, the first message ready: "Bonjour ! Je viens de la part
# de mon partenaire (code partenaire : ML_POISSY)".
WHATSAPP_LINK = (
    "https://wa.me/33612345678?text=Bonjour%20%21%20Je%20viens%20de%20la%20part%20de%20mon"
    "%20partenaire%20%28code%20partenaire%20%3A%20ML_POISSY%29"
)
# The WhatsApp channel on (its four settings), without its number.
WHATSAPP_ON = {
    "whatsapp_token": SecretStr("EAAtest"),
    "whatsapp_phone_number_id": "106540352242922",
    "whatsapp_app_secret": SecretStr("test-app-secret"),
    "whatsapp_verify_token": SecretStr("test-verify-token"),
}
# Telegram's and the web chat's links on: the bot's name and the public address.
LINKS_ON = {"telegram_bot_username": "AiguillageBot", "public_url": "https://aiguillage.example"}
# Every channel's link on, WhatsApp's with its number.
ALL_LINKS_ON = LINKS_ON | WHATSAPP_ON | {"whatsapp_number": "33612345678"}
WEB_LINK = "https://aiguillage.example/?start=ML_POISSY"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def configure(app: FastAPI, **changes: Any) -> None:
    """Change settings; after signing in (an https address makes the cookies https-only)."""
    app.state.settings = app.state.settings.model_copy(update=changes)


async def register(app: FastAPI, code: str, name: str) -> None:
    async with app.state.database.transaction() as tx:
        await tx.execute(
            "INSERT INTO referrers (code, name, created_at) VALUES (:code, :name, :now)",
            {"code": code, "name": name, "now": utcnow()},
        )


def chat_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://chat")


async def lead_of(app: FastAPI, session: str) -> str:
    return await lead_of_session(app.state.database, session)


async def set_status(app: FastAPI, lead_id: str, status: str) -> None:
    async with app.state.database.transaction() as tx:
        changed = await app.state.conversations.handoff.change_status(
            tx, lead_id, status, changed_by="x@poles.example", now=utcnow()
        )
    assert changed is not None


def row_of(page: str, code: str) -> list[str]:
    """The cells of a code's row, as text: partner, links, the six counts, printables."""
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        if f"<code>{code}</code>" in row:
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]
    raise AssertionError(f"no row for {code}")


def printables(page: str, code: str) -> list[str]:
    """What the page offers to print for a code: its poster's and QR codes' addresses."""
    prefix = f'href="/admin/referrers/{code}/'
    return [link.replace("&amp;", "&") for link in re.findall(prefix + r'([^"]*)"', page)]


def poster_codes(page: str) -> list[tuple[str, str | None]]:
    """The poster's QR codes, in order: the channel each opens, and its caption (if any)."""
    found = []
    for figure in re.findall(r'<figure class="poster-code">(.*?)</figure>', page, re.S):
        channel = re.search(r'<img class="poster-qr" src="qr\.svg\?channel=(\w+)"', figure)
        assert channel is not None, figure
        caption = re.search(r"<figcaption>(.*?)</figcaption>", figure, re.S)
        found.append((channel.group(1), html.unescape(caption.group(1)) if caption else None))
    return found


def qr_files(*channels: str) -> list[str]:
    return [f"qr.{kind}?channel={channel}" for channel in channels for kind in ("svg", "png")]


def counts(page: str, code: str) -> list[int]:
    """Conversations, completions, leads, bookings, attendances, enrolments."""
    return [int(cell) for cell in row_of(page, code)[2:8]]


async def staff(http: httpx.AsyncClient, account: Account, role: str = "counsellor") -> None:
    email = await account(role, sites=["pantin"] if role == "counsellor" else None)
    assert (await sign_in(http, email)).status_code == 303


async def counsellor_with_poissy(
    app: FastAPI, http: httpx.AsyncClient, account: Account, **changes: Any
) -> None:
    """A counsellor signed in, the settings changed, the Mission locale of Poissy registered."""
    await staff(http, account)
    configure(app, **changes)
    await register(app, "ML_POISSY", "Mission locale de Poissy")


async def test_each_code_shows_what_it_brought_and_its_links(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await counsellor_with_poissy(admin_app, http, account, **LINKS_ON)
    await register(admin_app, "SALON", 'Salon "Jeunes" <b>Pantin</b> & co')
    await register(admin_app, "QUIET", "Forum sans visiteurs")
    async with chat_client(admin_app) as chat:
        # ML_POISSY: two people go to the end (two leads), two stop on the way.
        await drive(chat, PROFILE, "session-poissy-0001")
        await drive(chat, PROFILE, "session-poissy-0002")
        await send(chat, "session-poissy-0003", command="start", payload="ML_POISSY")
        await send(chat, "session-poissy-0004", command="start", payload="ML_POISSY")
        await send(chat, "session-salon-0001", command="start", payload="SALON")
        # A code nobody registered, a mangled one, and no code at all.
        await send(chat, "session-flyer-0001", command="start", payload="FLYER_X")
        await send(chat, "session-flyer-0002", command="start", payload="FLYER_X")
        await send(chat, "session-mangled-01", command="start", payload="ML POISSY!")
        await send(chat, "session-direct-001", command="start")
    # One that stopped was closed after all: done, without a lead.
    async with admin_app.state.database.transaction() as tx:
        await tx.execute(
            "UPDATE conversations SET status = 'done' WHERE external_id = :session",
            {"session": external_id_of(token_of("session-poissy-0004"))},
        )
    enrolled = await lead_of(admin_app, "session-poissy-0001")
    await set_status(admin_app, enrolled, "enrolled")

    page = await http.get("/admin/referrers")
    assert page.status_code == 200
    # Conversations, completions, leads, bookings, attendances, enrolments.
    assert counts(page.text, "ML_POISSY") == [4, 3, 2, 0, 0, 1]
    assert counts(page.text, "SALON") == [1, 0, 0, 0, 0, 0]
    assert counts(page.text, "QUIET") == [0, 0, 0, 0, 0, 0]
    # Codes nobody registered are one row: invented codes cannot fill the page.
    assert "FLYER_X" not in page.text
    assert counts(page.text, "unknown") == [3, 0, 0, 0, 0, 0]
    poissy = row_of(page.text, "ML_POISSY")
    assert poissy[0] == "Mission locale de Poissy ML_POISSY"
    assert TELEGRAM_LINK in poissy[1]
    assert WEB_LINK in poissy[1]
    assert f'href="{TELEGRAM_LINK}"' in page.text
    assert 'href="/admin/leads?referrer=ML_POISSY"' in page.text
    assert printables(page.text, "ML_POISSY") == ["poster", *qr_files("telegram", "web")]
    # WhatsApp is off: no wa.me link, nor a word of WhatsApp.
    assert "wa.me" not in page.text
    assert "WhatsApp" not in page.text
    # Unregistered codes are shown as such, with no links or poster.
    assert "Codes non enregistrés" in row_of(page.text, "unknown")[0]
    assert row_of(page.text, "unknown")[1] == ""
    assert "/admin/referrers/unknown/" not in page.text
    assert "Sans code" in page.text
    # Names are text, never markup.
    assert "<b>Pantin</b>" not in page.text
    assert "Salon &#34;Jeunes&#34; &lt;b&gt;Pantin&lt;/b&gt; &amp; co" in page.text
    # Totals include what came without a code.
    total = re.search(r"<tfoot>(.*?)</tfoot>", page.text, re.S)
    assert total is not None
    assert re.findall(r"<td>(\d+)</td>", total.group(1)) == ["9", "3", "2", "0", "0", "1"]

    # A lead that was enrolled and moved on still counts as an enrolment.
    await set_status(admin_app, enrolled, "withdrawn")
    page = await http.get("/admin/referrers")
    assert counts(page.text, "ML_POISSY") == [4, 3, 2, 0, 0, 1]


async def test_each_code_shows_how_many_of_its_people_booked_and_came(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await counsellor_with_poissy(admin_app, http, account)
    await register(admin_app, "SALON", "Salon emploi de Poissy")
    conversations: ConversationService = admin_app.state.conversations
    appointments = conversations.appointments
    first = await open_session(appointments)
    later = await open_session(appointments, starts_at=first.starts_at + timedelta(days=7))
    # Four people of the Mission locale finish; three book the date offered first.
    people = ("changed", "present", "cancelled")
    for person in people:
        await converse(conversations, person, referrer="ML_POISSY")
    none_suits = {"session": {"choice": "none"}}
    await converse(conversations, "declined", referrer="ML_POISSY", answers=none_suits)
    await converse(conversations, "absent", referrer="SALON")
    booking = {person: await booking_of(admin_app, person) for person in (*people, "absent")}
    # Another date, picked from a reminder: still one person who booked.
    web = {"channel": "web", "external_id": "changed"}
    change = Input(command="appointment", payload=f"change:{booking['changed']}")
    await conversations.handle(**web, received=change)
    await conversations.handle(**web, received=Input(choice=later.id))
    assert await booking_of(admin_app, "changed") != booking["changed"]
    await appointments.mark_attendance(booking["present"], True, by="x@poles.example")
    await appointments.cancel_booking(booking["cancelled"], by="person")
    await appointments.mark_attendance(booking["absent"], False, by="x@poles.example")

    page = await http.get("/admin/referrers")
    assert page.status_code == 200
    assert counts(page.text, "ML_POISSY") == [4, 4, 4, 3, 1, 0]
    assert counts(page.text, "SALON") == [1, 1, 1, 1, 0, 0]
    assert '<th scope="col">Rendez-vous réservés</th>' in page.text
    assert '<th scope="col">Venus au rendez-vous</th>' in page.text
    total = re.search(r"<tfoot>(.*?)</tfoot>", page.text, re.S)
    assert total is not None
    assert re.findall(r"<td>(\d+)</td>", total.group(1)) == ["5", "5", "5", "4", "1", "0"]


async def booking_of(app: FastAPI, person: str) -> str:
    """The booking made in a person's web chat conversation (the last one, if several)."""
    async with app.state.database.transaction() as tx:
        conversation = await find(tx, channel="web", external_id=person)
        assert conversation is not None
        lead = await lead_of_conversation(tx, conversation.id)
        assert lead is not None
        found = await bookings_of_lead(tx, lead.id)
    return found[-1].id


async def test_the_page_works_in_english_and_without_any_code(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await staff(http, account, "admin")
    page = await http.get("/admin/referrers")
    assert page.status_code == 200
    assert "Aucun code de parrainage" in page.text
    # Without a bot name, the page says why the t.me links are missing.
    assert "AIGUILLAGE_TELEGRAM_BOT_USERNAME" in page.text
    assert (await http.get("/admin/referrers?lang=en")).status_code == 200


async def test_qr_codes_open_the_telegram_link_else_the_web_chat(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await counsellor_with_poissy(admin_app, http, account, **LINKS_ON)

    png = await http.get("/admin/referrers/ML_POISSY/qr.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_SIGNATURE)
    # The PNG is the QR code of the Telegram link, large enough to print.
    expected = segno.make_qr(TELEGRAM_LINK, error="m")
    width, height = struct.unpack(">II", png.content[16:24])
    assert width == height == (expected.symbol_size(scale=1)[0]) * 20
    assert png.content == _png(expected)

    svg = await http.get("/admin/referrers/ML_POISSY/qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox")
    assert root.get("width") is None
    assert len(list(root.iter("{http://www.w3.org/2000/svg}path"))) == 2  # light, dark
    assert svg.text == _svg(expected)

    # No bot name known: the web chat's link instead.
    configure(admin_app, telegram_bot_username=None)
    svg = await http.get("/admin/referrers/ML_POISSY/qr.svg")
    assert svg.text == _svg(segno.make_qr(WEB_LINK, error="m"))
    # No public address either: the web chat on the address the page was asked on.
    configure(admin_app, public_url=None)
    svg = await http.get("/admin/referrers/ML_POISSY/qr.svg")
    assert svg.text == _svg(segno.make_qr("http://testserver/?start=ML_POISSY", error="m"))


def _png(qr: segno.QRCode) -> bytes:
    out = io.BytesIO()
    qr.save(out, kind="png", scale=20, border=4)
    return out.getvalue()


def _svg(qr: segno.QRCode) -> str:
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=10, border=4, xmldecl=False, omitsize=True, light="#fff")
    return out.getvalue().decode()


async def test_the_poster_is_a_printable_page_with_the_code_and_its_link(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await staff(http, account)
    configure(admin_app, **LINKS_ON)
    await register(admin_app, "ML_POISSY", "Mission locale de Poissy & <Mantes>")

    poster = await http.get("/admin/referrers/ML_POISSY/poster")
    assert poster.status_code == 200
    assert "Mission locale de Poissy &amp; &lt;Mantes&gt;" in poster.text
    assert "<Mantes>" not in poster.text
    # A QR code a channel, each named; the links to type beside them.
    assert poster_codes(poster.text) == [("telegram", "Telegram"), ("web", "Dans le navigateur")]
    assert f'href="{TELEGRAM_LINK}"' in poster.text
    assert "t.me/AiguillageBot?start=ML_POISSY" in poster.text
    assert "aiguillage.example/?start=ML_POISSY" in poster.text
    assert "Sans application :" in poster.text
    assert "Scanne l'un de ces codes" in poster.text
    assert "WhatsApp" not in poster.text
    assert "Écris-nous !" in poster.text
    assert "<strong>PôleS</strong>" in poster.text  # who is behind the poster
    style = re.search(r'href="(/static/poster\.css\?v=[0-9a-f]+)"', poster.text)
    assert style is not None
    sheet = await http.get(style.group(1))
    assert sheet.status_code == 200
    assert "size: A4" in sheet.text
    # Still no script: the admin view's policy holds.
    assert "script-src" not in poster.headers["content-security-policy"]
    assert "<script" not in poster.text

    english = await http.get("/admin/referrers/ML_POISSY/poster?lang=en")
    assert english.status_code == 200


async def test_a_plain_make_run_still_gives_links_qr_codes_and_a_poster_naming_poles(
    admin_app: FastAPI, account: Account
) -> None:
    # As `make run` starts: neither AIGUILLAGE_PUBLIC_URL nor the bot's name.
    assert admin_app.state.settings.public_url is None
    assert admin_app.state.settings.telegram_bot_username is None
    await register(admin_app, "ML_POISSY", "Mission locale de Poissy")
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        await staff(http, account)
        page = await http.get("/admin/referrers")
        assert page.status_code == 200
        web_link = "http://127.0.0.1:8000/?start=ML_POISSY"
        assert web_link in row_of(page.text, "ML_POISSY")[1]
        # The operator is told where the links come from, and how to set them for good.
        assert "AIGUILLAGE_PUBLIC_URL" in page.text
        assert printables(page.text, "ML_POISSY") == ["poster", *qr_files("web")]
        for printable in printables(page.text, "ML_POISSY"):
            assert (await http.get(f"/admin/referrers/ML_POISSY/{printable}")).status_code == 200
        for asked in ("qr.svg", "qr.svg?channel=web"):
            svg = await http.get(f"/admin/referrers/ML_POISSY/{asked}")
            assert svg.text == _svg(segno.make_qr(web_link, error="m"))
        # No bot name: no Telegram QR code to ask for.
        telegram = await http.get("/admin/referrers/ML_POISSY/qr.svg?channel=telegram")
        assert telegram.status_code == 404
        poster = await http.get("/admin/referrers/ML_POISSY/poster")
        assert "<strong>PôleS</strong>" in poster.text
        assert "127.0.0.1:8000/?start=ML_POISSY" in poster.text
        # One code: the one QR code, its link to type as the other way in.
        assert poster_codes(poster.text) == [("web", None)]
        assert "Scanne ce code" in poster.text
        assert "Ou ouvre :" in poster.text


async def test_with_whatsapp_each_code_offers_its_wa_me_link_and_qr_code(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await counsellor_with_poissy(admin_app, http, account, **ALL_LINKS_ON)
    await register(admin_app, "SALON", "Salon de l'emploi")

    page = await http.get("/admin/referrers")
    assert page.status_code == 200
    poissy = row_of(page.text, "ML_POISSY")
    assert f"WhatsApp : {WHATSAPP_LINK}" in poissy[1]
    assert TELEGRAM_LINK in poissy[1]
    assert WEB_LINK in poissy[1]
    assert f'href="{WHATSAPP_LINK}"' in page.text
    # Each code's link prefills the words the WhatsApp channel reads its code from.
    salon = re.search(r'href="(https://wa\.me/[^"]*)"[^<]*SALON', page.text)
    assert salon is not None
    [prefilled] = parse_qs(urlsplit(salon.group(1)).query)["text"]
    assert prefilled == "Bonjour ! Je viens de la part de mon partenaire (code partenaire : SALON)"
    assert printables(page.text, "ML_POISSY") == [
        "poster",
        *qr_files("telegram", "web", "whatsapp"),
    ]
    assert "AIGUILLAGE_WHATSAPP_NUMBER" not in page.text

    svg = await http.get("/admin/referrers/ML_POISSY/qr.svg?channel=whatsapp")
    assert svg.status_code == 200
    assert svg.text == _svg(segno.make_qr(WHATSAPP_LINK, error="m"))
    assert 'filename="qr-ML_POISSY-whatsapp.svg"' in svg.headers["content-disposition"]
    png = await http.get("/admin/referrers/ML_POISSY/qr.png?channel=whatsapp")
    assert png.content == _png(segno.make_qr(WHATSAPP_LINK, error="m"))
    # The other channels' QR codes, and the one QR code of before, are still theirs.
    telegram = await http.get("/admin/referrers/ML_POISSY/qr.svg?channel=telegram")
    assert telegram.text == _svg(segno.make_qr(TELEGRAM_LINK, error="m"))
    web = await http.get("/admin/referrers/ML_POISSY/qr.svg?channel=web")
    assert web.text == _svg(segno.make_qr(WEB_LINK, error="m"))
    default = await http.get("/admin/referrers/ML_POISSY/qr.svg")
    assert default.text == telegram.text


@pytest.mark.parametrize(
    ("changes", "says_why"),
    [
        pytest.param({}, False, id="channel off"),
        pytest.param({"whatsapp_number": "33612345678"}, False, id="number without channel"),
        pytest.param(WHATSAPP_ON, True, id="channel without number"),
    ],
)
async def test_no_whatsapp_link_unless_the_channel_is_on_and_its_number_set(
    admin_app: FastAPI,
    http: httpx.AsyncClient,
    account: Account,
    changes: dict[str, Any],
    says_why: bool,
) -> None:
    await counsellor_with_poissy(
        admin_app, http, account, telegram_bot_username="AiguillageBot", **changes
    )

    page = await http.get("/admin/referrers")
    assert "https://wa.me" not in page.text
    assert printables(page.text, "ML_POISSY") == ["poster", *qr_files("telegram", "web")]
    # The operator who turned the channel on is told what is missing.
    assert ("AIGUILLAGE_WHATSAPP_NUMBER" in page.text) is says_why
    qr = await http.get("/admin/referrers/ML_POISSY/qr.svg?channel=whatsapp")
    assert qr.status_code == 404
    assert "Ce code n'a pas de lien sur cette messagerie." in qr.text
    poster = await http.get("/admin/referrers/ML_POISSY/poster")
    assert "wa.me" not in poster.text
    assert [channel for channel, _ in poster_codes(poster.text)] == ["telegram", "web"]


@pytest.mark.parametrize("channel", ["sms", "WHATSAPP", "web ", "<b>"])
async def test_a_qr_code_of_a_channel_that_does_not_exist_is_not_found(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, channel: str
) -> None:
    await counsellor_with_poissy(
        admin_app, http, account, whatsapp_number="33612345678", **WHATSAPP_ON
    )
    for kind in ("svg", "png"):
        response = await http.get(
            f"/admin/referrers/ML_POISSY/qr.{kind}", params={"channel": channel}
        )
        assert response.status_code == 404
        assert "<b>" not in response.text


async def test_the_poster_puts_whatsapp_first_with_the_words_to_send(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await counsellor_with_poissy(admin_app, http, account, **ALL_LINKS_ON)

    poster = await http.get("/admin/referrers/ML_POISSY/poster")
    assert poster.status_code == 200
    assert poster_codes(poster.text) == [
        ("whatsapp", "WhatsApp"),
        ("telegram", "Telegram"),
        ("web", "Dans le navigateur"),
    ]
    for channel in ("whatsapp", "telegram", "web"):
        image = await http.get(f"/admin/referrers/ML_POISSY/qr.svg?channel={channel}")
        assert image.status_code == 200
    # Who cannot scan types the number's address and the code, spelt out.
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", poster.text)).split())
    assert (
        "Sur WhatsApp : wa.me/33612345678 avec le message « code partenaire : ML_POISSY »"
    ) in text
    assert f'href="{WHATSAPP_LINK}"' in poster.text
    assert "Sur Telegram : t.me/AiguillageBot?start=ML_POISSY" in text
    assert "Sans application : aiguillage.example/?start=ML_POISSY" in text
    english = await http.get("/admin/referrers/ML_POISSY/poster?lang=en")
    assert english.status_code == 200
    assert "code partenaire : ML_POISSY" in english.text  # what the channel reads, in French


@pytest.mark.parametrize(
    "path",
    ["/admin/referrers", "/admin/referrers/ML_POISSY/qr.svg", "/admin/referrers/ML_POISSY/poster"],
)
async def test_partners_and_visitors_are_refused(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, path: str
) -> None:
    configure(admin_app, telegram_bot_username="AiguillageBot")
    await register(admin_app, "ML_POISSY", "Mission locale de Poissy")

    anonymous = await http.get(path)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/admin/login?next=" + path.replace("/", "%2F")

    email = await account("partner", referrers=["ML_POISSY"])
    await sign_in(http, email)
    partner = await http.get(path)
    assert partner.status_code == 403
    assert "Mission locale de Poissy" not in partner.text


@pytest.mark.parametrize("code", ["NOPE", "bad.code", "%3Cb%3E", "x" * 65])
async def test_unknown_codes_are_not_found(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, code: str
) -> None:
    configure(admin_app, telegram_bot_username="AiguillageBot")
    await staff(http, account, "admin")
    for path in ("qr.svg", "qr.png", "poster"):
        response = await http.get(f"/admin/referrers/{code}/{path}")
        assert response.status_code == 404
        assert "Ce code partenaire n'est pas enregistré." in response.text
