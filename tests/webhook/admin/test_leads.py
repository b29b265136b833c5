"""Counsellors following leads: the list, a lead's page, its changes, talking through the bot."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.leads.store import lead_of_conversation
from tests.auxil.admin_browser import PROFILE, Account, csrf_of, sign_in
from tests.auxil.funnel_data import converse
from tests.auxil.personas import answer_for
from tests.auxil.web_chat import lead_of_session, pushed, send, web_chat_lead
from tests.auxil.webhook_receiver import register_referrer

POISSY: dict[str, Any] = PROFILE | {"postal_code": "78300"}


async def asks_for_a_counsellor_at_once(admin_app: FastAPI, session: str) -> str:
    """Someone who asks for a counsellor before giving a postal code: a lead with no site."""
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as chat:
        reply = await send(chat, session, command="start")
        reply = await send(chat, session, command="human")
        for _ in range(20):
            if reply["done"]:
                break
            question = reply["messages"][-1]["question"]
            assert question["field"] not in ("postal_code", "site"), question
            reply = await send(chat, session, **answer_for(question, PROFILE))
        assert reply["done"]
    return await lead_of_session(admin_app.state.database, session)


async def named(admin_app: FastAPI, session: str, first_name: str) -> str:
    """A person who gives this first name in the web chat, up to a lead; the lead's id."""
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as chat:
        reply = await send(chat, session, command="start")
        for _ in range(40):
            if reply["done"]:
                break
            question = reply["messages"][-1]["question"]
            answer = answer_for(question, PROFILE)
            if question["field"] == "first_name":
                answer = {"text": first_name}
            reply = await send(chat, session, **answer)
        assert reply["done"]
    return await lead_of_session(admin_app.state.database, session)


async def update_lead(admin_app: FastAPI, lead_id: str, **columns: str) -> None:
    """Put values straight into a lead, as any path into the table might have."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    async with admin_app.state.database.transaction() as tx:
        await tx.execute(
            f"UPDATE leads SET {assignments} WHERE id = :id",  # noqa: S608 (names from this test)
            columns | {"id": lead_id},
        )


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


async def register_ml_poissy(admin_app: FastAPI) -> None:
    """Register the code the tests' people come with (an unregistered one is kept as unknown)."""
    async with admin_app.state.database.transaction() as tx:
        await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")


async def audit_actions(admin_app: FastAPI) -> list[tuple[str, str, str | None]]:
    async with admin_app.state.database.transaction() as tx:
        rows = await tx.fetch("SELECT actor, action, lead_id FROM audit_log ORDER BY id")
    return [(r["actor"], r["action"], r["lead_id"]) for r in rows]


async def test_a_counsellor_sees_the_leads_of_their_site_only_and_filters_them(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    pantin = await web_chat_lead(admin_app, "session-pantin-0001")
    poissy = await web_chat_lead(admin_app, "session-poissy-0001", POISSY)
    email = await account("counsellor", sites=["pantin"])
    assert (await sign_in(http, email)).status_code == 303

    page = await http.get("/admin/leads")
    assert page.status_code == 200
    assert f"/admin/leads/{pantin}" in page.text
    assert f"/admin/leads/{poissy}" not in page.text
    assert (await http.get(f"/admin/leads/{poissy}")).status_code == 404

    # Filters: by status, by name, by phone as people type it.
    assert pantin in (await http.get("/admin/leads?status=new")).text
    assert pantin not in (await http.get("/admin/leads?status=enrolled")).text
    assert pantin in (await http.get("/admin/leads?q=samir")).text
    assert pantin in (await http.get("/admin/leads?q=06%2012%2034")).text
    assert pantin not in (await http.get("/admin/leads?q=Yasmine")).text
    assert pantin in (await http.get("/admin/leads?programme=ecole_du_web")).text
    assert pantin not in (await http.get("/admin/leads?from=2999-01-01")).text
    # Nonsense in the query string is ignored, never an error.
    assert (await http.get("/admin/leads?status=%3Cx%3E&from=yesterday&page=-4")).status_code == 200


async def test_a_lead_page_shows_the_person_and_every_change_is_kept_and_audited(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    lead_id = await web_chat_lead(admin_app, "session-pantin-0002")
    email = await account("counsellor", sites=["pantin"])
    await sign_in(http, email)

    page = await http.get(f"/admin/leads/{lead_id}")
    assert page.status_code == 200
    for shown in ("Samir", "06 12 34 56 78", "Pantin", "93500", "L&#39;École du Web"):
        assert shown in page.text
    token = await csrf_of(http, f"/admin/leads/{lead_id}")

    changed = await http.post(
        f"/admin/leads/{lead_id}/status", data={"csrf_token": token, "status": "contacted"}
    )
    assert changed.status_code == 303
    noted = await http.post(
        f"/admin/leads/{lead_id}/notes",
        data={"csrf_token": token, "body": "Appelée mardi, rappeler jeudi."},
    )
    assert noted.status_code == 303
    page = await http.get(noted.headers["location"])
    assert "Note ajoutée." in page.text
    assert "Appelée mardi, rappeler jeudi." in page.text
    assert "Contacté" in page.text

    async with admin_app.state.database.transaction() as tx:
        [history] = [await tx.fetch("SELECT status, changed_by FROM lead_status_changes")]
        updated = await tx.fetch(
            "SELECT id FROM webhook_deliveries WHERE event_type = 'lead.updated'"
        )
    assert [(h["status"], h["changed_by"]) for h in history] == [
        ("new", "assistant"),
        ("contacted", email),
    ]
    assert updated == []  # no endpoint registered: nothing to send, nothing queued
    actions = [a for _, a, lead in await audit_actions(admin_app) if lead == lead_id]
    assert actions[0] == "view_lead"  # every view of the person's data is kept
    assert [a for a in actions if a != "view_lead"] == ["change_status", "add_note"]


@pytest.mark.parametrize(
    ("channel", "label"),
    [("whatsapp", "WhatsApp"), ("telegram", "Telegram"), ("web", "chat du site")],
)
async def test_a_lead_page_names_the_channel_the_person_wrote_on(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, channel: str, label: str
) -> None:
    conversation = await converse(admin_app.state.conversations, "3361234", channel=channel)
    async with admin_app.state.database.transaction() as tx:
        lead = await lead_of_conversation(tx, conversation)
    assert lead is not None
    await sign_in(http, await account("counsellor", sites=["pantin"]))

    page = await http.get(f"/admin/leads/{lead.id}")
    received = re.search(r'<p class="muted">Reçu le (.*?)</p>', page.text, re.S)
    assert received is not None
    assert f" · {label} · fr" in received.group(1)


async def test_a_counsellor_talks_with_the_person_through_the_bot_then_hands_back(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    session = "session-pantin-0003"
    lead_id = await web_chat_lead(admin_app, session)
    email = await account("counsellor", sites=["pantin"])
    await sign_in(http, email)
    token = await csrf_of(http, f"/admin/leads/{lead_id}")

    sent = await http.post(
        f"/admin/leads/{lead_id}/reply",
        data={"csrf_token": token, "body": "Bonjour Samir, c'est Camille de PôleS !"},
    )
    assert sent.status_code == 303
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as chat:
        waiting = await pushed(chat, session)
        assert waiting["counsellor"] is True
        [message] = waiting["messages"]
        assert "Bonjour Samir, c'est Camille de PôleS !" in message["text"]
        # The person answers: the script stays quiet, the counsellor reads it on the lead page.
        answer = await send(chat, session, text="Oui je suis dispo demain matin")
        assert answer["messages"] == []
        page = await http.get(f"/admin/leads/{lead_id}")
        assert "Oui je suis dispo demain matin" in page.text

        handed = await http.post(f"/admin/leads/{lead_id}/hand-back", data={"csrf_token": token})
        assert handed.status_code == 303
        after = await pushed(chat, session, after=message["id"])
        assert after["counsellor"] is False
        assert "redonné la main" in after["messages"][0]["text"]
        # The script answers again.
        assert (await send(chat, session, text="/mes_donnees"))["messages"]


async def test_the_csv_export_opens_in_excel_with_accents_and_only_what_the_role_may_see(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await register_ml_poissy(admin_app)
    await web_chat_lead(admin_app, "session-pantin-0004")
    await sign_in(http, await account("admin"))
    exported = await http.get("/admin/leads.csv?site=pantin")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["id", "created_at", "status"]
    assert rows[1][rows[0].index("first_name")] == "Samir"
    assert rows[1][rows[0].index("programmes")].startswith("L'École du Web")

    partner = httpx.AsyncClient(transport=http._transport, base_url="http://testserver")
    async with partner:
        await sign_in(partner, await account("partner", referrers=["ML_POISSY"]))
        rows = list(
            csv.reader(
                io.StringIO((await partner.get("/admin/leads.csv")).content.decode("utf-8-sig")),
                delimiter=";",
            )
        )
    assert "first_name" not in rows[0]
    assert "phone" not in rows[0]
    assert len(rows) == 2


async def test_a_partner_follows_its_referrals_without_their_answers(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await register_ml_poissy(admin_app)
    lead_id = await web_chat_lead(admin_app, "session-pantin-0005")
    await sign_in(http, await account("partner", referrers=["ML_POISSY"]))
    listing = await http.get("/admin/leads")
    assert lead_id in listing.text
    assert "Samir" not in listing.text
    page = await http.get(f"/admin/leads/{lead_id}")
    assert page.status_code == 200
    assert "Pantin" in page.text
    for private in ("Samir", "06 12", "93500", "Conversation"):
        assert private not in page.text
    other = httpx.AsyncClient(transport=http._transport, base_url="http://testserver")
    async with other:
        await sign_in(other, await account("partner", referrers=["ML_PANTIN"]))
        assert (await other.get(f"/admin/leads/{lead_id}")).status_code == 404
        assert lead_id not in (await other.get("/admin/leads")).text


async def test_the_admin_reads_the_audit_log_on_the_data_page(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    lead_id = await web_chat_lead(admin_app, "session-pantin-0006")
    counsellor = await account("counsellor", sites=["pantin"])
    await sign_in(http, counsellor)
    assert (await http.get(f"/admin/leads/{lead_id}")).status_code == 200
    http.cookies.clear()
    await sign_in(http, await account("admin"))
    page = await http.get("/admin/data")
    assert page.status_code == 200
    assert counsellor in page.text
    assert "view_lead" in page.text
    assert f"/admin/leads/{lead_id}" in page.text


async def test_a_lead_with_no_site_reaches_every_counsellor_who_can_give_it_a_site(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    lead_id = await asks_for_a_counsellor_at_once(admin_app, "session-nosite-0001")
    sited = await web_chat_lead(admin_app, "session-pantin-0007")
    poissy_counsellor = await account("counsellor", sites=["poissy"])
    pantin_counsellor = await account("counsellor", sites=["pantin"])
    await sign_in(http, poissy_counsellor)

    # In the list, in the "Sans site" queue, and its page opens.
    assert f"/admin/leads/{lead_id}" in (await http.get("/admin/leads")).text
    queue = (await http.get("/admin/leads?site=none")).text
    assert f"/admin/leads/{lead_id}" in queue
    assert f"/admin/leads/{sited}" not in queue
    page = await http.get(f"/admin/leads/{lead_id}")
    assert page.status_code == 200
    assert "sans site" in page.text
    # Any counsellor may take it, whatever their site.
    async with admin_app.state.database.transaction() as tx:
        pantin_id = (
            await tx.fetch_one("SELECT id FROM users WHERE email = :e", {"e": pantin_counsellor})
        )["id"]  # type: ignore[index]
    assert f'value="{pantin_id}"' in page.text
    token = await csrf_of(http, f"/admin/leads/{lead_id}")
    assigned = await http.post(
        f"/admin/leads/{lead_id}/assign", data={"csrf_token": token, "user": pantin_id}
    )
    assert assigned.status_code == 303

    # Without a valid CSRF token or with a site not in the catalogue, nothing changes.
    assert (
        await http.post(f"/admin/leads/{lead_id}/site", data={"csrf_token": "x", "site": "pantin"})
    ).status_code == 403
    unknown = await http.post(
        f"/admin/leads/{lead_id}/site", data={"csrf_token": token, "site": "atlantis"}
    )
    assert unknown.status_code == 400
    assert "Site inconnu." in unknown.text

    # Given to Pantin: it leaves the queue, the Poissy counsellor no longer sees it, and the
    # Pantin counsellor keeps the assignment.
    moved = await http.post(
        f"/admin/leads/{lead_id}/site", data={"csrf_token": token, "site": "pantin"}
    )
    assert moved.status_code == 303
    listing = await http.get(moved.headers["location"])
    assert "l'équipe de ce site suit maintenant ce contact" in listing.text
    assert f"/admin/leads/{lead_id}" not in listing.text
    assert (await http.get(f"/admin/leads/{lead_id}")).status_code == 404
    async with admin_app.state.database.transaction() as tx:
        row = await tx.fetch_one(
            "SELECT site, assigned_to FROM leads WHERE id = :id", {"id": lead_id}
        )
    assert row is not None
    assert (row["site"], row["assigned_to"]) == ("pantin", pantin_id)
    actions = [(who, a) for who, a, lead in await audit_actions(admin_app) if lead == lead_id]
    assert (poissy_counsellor, "set_site") in actions


async def test_a_partner_without_the_referrer_does_not_see_a_lead_with_no_site(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    lead_id = await asks_for_a_counsellor_at_once(admin_app, "session-nosite-0002")
    await sign_in(http, await account("partner", referrers=["ML_POISSY"]))
    assert (await http.get(f"/admin/leads/{lead_id}")).status_code == 404
    assert lead_id not in (await http.get("/admin/leads")).text
    assert lead_id not in (await http.get("/admin/leads?site=none")).text


async def test_the_site_a_counsellor_chose_stays_when_the_person_asks_again(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    session = "session-nosite-0003"
    lead_id = await asks_for_a_counsellor_at_once(admin_app, session)
    await sign_in(http, await account("admin"))
    token = await csrf_of(http, f"/admin/leads/{lead_id}")
    await http.post(f"/admin/leads/{lead_id}/site", data={"csrf_token": token, "site": "pantin"})
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as chat:
        reply = await send(chat, session, command="human")
        while not reply["done"]:  # what is known is not asked again: straight to the summary
            reply = await send(chat, session, choice="confirm")
    assert await lead_of_session(admin_app.state.database, session) == lead_id
    page = await http.get(f"/admin/leads/{lead_id}")
    assert "sans site" not in page.text
    assert "Pantin" in page.text


# OWASP's list: a cell starting with = + - @, a tab or a carriage return is a formula.
FORMULAS = [
    "=1+1",
    "=1+cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]


async def test_the_csv_export_neutralises_every_formula_and_phones_read_as_dialled(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    lead_id = await web_chat_lead(admin_app, "session-pantin-0008")
    await sign_in(http, await account("admin"))
    [row] = csv_rows(await http.get("/admin/leads.csv"))
    assert row["phone"] == "06 12 34 56 78"  # +33612345678, as French staff write it

    for value in FORMULAS:
        await update_lead(admin_app, lead_id, first_name=value, email="=2+3@x.fr")
        [row] = csv_rows(await http.get("/admin/leads.csv"))
        assert row["first_name"] == "'" + value
        assert row["email"] == "'=2+3@x.fr"

    # A number from abroad: 00, dialled from France, in place of a + that would need a quote.
    await update_lead(admin_app, lead_id, first_name="Inès", phone="+447911123456")
    [row] = csv_rows(await http.get("/admin/leads.csv"))
    assert row["phone"] == "00 447911123456"
    assert row["first_name"] == "Inès"


async def test_filters_with_ampersand_hash_and_plus_survive_the_pages_and_the_csv_link(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    first = await web_chat_lead(admin_app, "session-pantin-0009")
    code = "a&b#c+d"
    async with admin_app.state.database.transaction() as tx:
        for number in range(25):  # 26 leads with this code: two pages of 25
            await tx.execute(
                "INSERT INTO leads (id, created_at, updated_at, channel, language, site,"
                " first_name, human_requested, profile, orientation, programmes, status)"
                " SELECT :id, created_at, updated_at, channel, language, site, first_name,"
                " human_requested, profile, orientation, programmes, status"
                " FROM leads WHERE id = :first",
                {"id": f"copy{number:04d}", "first": first},
            )
        await tx.execute("UPDATE leads SET referrer_code = :code", {"code": code})
    # Someone else's lead, which a broken filter would show.
    other = await web_chat_lead(admin_app, "session-pantin-0010")
    await sign_in(http, await account("admin"))

    page_one = await http.get("/admin/leads", params={"referrer": code})
    assert "(26)" in page_one.text
    assert f'value="{html.escape(code)}"' in page_one.text

    def link(page: httpx.Response, pattern: str) -> str:
        found = re.search(pattern, page.text)
        assert found is not None, page.text
        return html.unescape(found.group(1))

    # The 26 share one creation time: the pages part them by id, none lost or shown twice.
    first_page = set(re.findall(r'href="/admin/leads/(\w+)"', page_one.text))
    assert len(first_page) == 25
    assert "Plus récents" not in page_one.text
    page_two = await http.get("/admin/leads" + link(page_one, r'href="(\?[^"]*)">Plus anciens'))
    assert other not in page_two.text
    shown = set(re.findall(r'href="/admin/leads/(\w+)"', page_two.text))
    assert len(shown) == 1
    assert shown.isdisjoint(first_page)
    assert "Plus anciens" not in page_two.text
    assert "(26)" in page_two.text
    back = await http.get("/admin/leads" + link(page_two, r'href="(\?[^"]*)">[^<]*Plus récents'))
    assert set(re.findall(r'href="/admin/leads/(\w+)"', back.text)) == first_page
    assert "Plus récents" not in back.text

    exported = csv_rows(await http.get(link(page_one, r'href="(/admin/leads\.csv\?[^"]*)"')))
    assert len(exported) == 26
    assert {row["referrer_code"] for row in exported} == {code}


async def test_the_search_ignores_accents_and_case(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    ines = await named(admin_app, "session-accent-0001", "Inès")
    laetitia = await named(admin_app, "session-accent-0002", "Lætitia")
    await sign_in(http, await account("counsellor", sites=["pantin"]))

    for typed in ("ines", "INES", "Inès", "inè", "INÈS"):
        found = (await http.get("/admin/leads", params={"q": typed})).text
        assert f"/admin/leads/{ines}" in found, typed
        assert f"/admin/leads/{laetitia}" not in found, typed
    for typed in ("laetitia", "Lætitia", "LAETI"):
        assert (
            f"/admin/leads/{laetitia}" in (await http.get("/admin/leads", params={"q": typed})).text
        )
    # LIKE's wildcards are letters like any other: % finds nobody called that.
    for typed in ("%", "_"):
        found = (await http.get("/admin/leads", params={"q": typed})).text
        assert f"/admin/leads/{ines}" not in found, typed


async def test_a_held_lead_says_so_and_a_counsellor_releases_it_once(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    lead_id = await web_chat_lead(admin_app, "session-held-00001")
    # As the address limit leaves it: kept, nothing sent anywhere.
    async with admin_app.state.database.transaction() as tx:
        await tx.execute("UPDATE leads SET held_at = created_at WHERE id = :id", {"id": lead_id})
    await sign_in(http, await account("counsellor", sites=["pantin"]))
    page = await http.get(f"/admin/leads/{lead_id}")
    assert "Demande retenue" in page.text
    token = await csrf_of(http, f"/admin/leads/{lead_id}")

    refused = await http.post(f"/admin/leads/{lead_id}/release", data={})
    assert refused.status_code in (400, 403)
    released = await http.post(f"/admin/leads/{lead_id}/release", data={"csrf_token": token})
    assert released.status_code == 303
    page = await http.get(released.headers["location"])
    assert "Demande transmise" in page.text
    assert "Demande retenue" not in page.text
    async with admin_app.state.database.transaction() as tx:
        held = await tx.fetch_one("SELECT held_at FROM leads WHERE id = :id", {"id": lead_id})
    assert held == {"held_at": None}
    actions = [a for _, a, lead in await audit_actions(admin_app) if lead == lead_id]
    assert actions.count("release") == 1


async def lead_page(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, chat: str, channel: str
) -> tuple[str, str]:
    """A lead from a conversation on ``channel``, as a counsellor of Pantin sees its page: the
    lead's id and the page."""
    conversation = await converse(admin_app.state.conversations, chat, channel=channel)
    async with admin_app.state.database.transaction() as tx:
        lead = await lead_of_conversation(tx, conversation)
    assert lead is not None
    await sign_in(http, await account("counsellor", sites=["pantin"]))
    page = await http.get(f"/admin/leads/{lead.id}")
    return lead.id, page.text


async def test_a_whatsapp_lead_past_its_window_is_to_be_phoned(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    # No template configured, and nothing heard from the person in the last 24 hours.
    lead_id, page = await lead_page(admin_app, http, account, "33612345", "whatsapp")
    assert "Pour l'instant, appelez-la" in page
    token = await csrf_of(http, f"/admin/leads/{lead_id}")

    sent = await http.post(
        f"/admin/leads/{lead_id}/reply", data={"csrf_token": token, "body": "Bonjour !"}
    )
    assert sent.headers["location"].endswith("?done=phone_only")
    after = await http.get(sent.headers["location"])
    assert "pas envoyé" in after.text
    assert "Bonjour !" in after.text  # kept in the history


async def test_a_telegram_lead_is_not_told_to_be_phoned(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    _, page = await lead_page(admin_app, http, account, "3361234", "telegram")
    assert "appelez-la" not in page
