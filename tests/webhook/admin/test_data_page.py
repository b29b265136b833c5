"""/admin/data: the retention periods in force, and purging now what is past its time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape

import httpx
import pytest
from fastapi import FastAPI

from bot.accounts.users import Passwords
from bot.clock import utcnow
from bot.settings import Settings
from tests.auxil.admin_browser import PROFILE, Account, csrf_of, sign_in
from tests.auxil.web_chat import drive, lead_of_session
from tests.auxil.webhook_receiver import register_endpoint
from webhook.app import create_app


async def make_lead(admin_app: FastAPI, http: httpx.AsyncClient, session: str) -> str:
    """Someone finishes the web chat: their lead's id."""
    await drive(http, PROFILE, session)
    return await lead_of_session(admin_app.state.database, session)


async def close(admin_app: FastAPI, lead_id: str, status: str, days_ago: int) -> None:
    async with admin_app.state.database.transaction() as tx:
        await tx.write(
            "UPDATE leads SET status = :status, closed_at = :at WHERE id = :id",
            {"status": status, "at": utcnow() - timedelta(days=days_ago), "id": lead_id},
        )


async def count(admin_app: FastAPI, sql: str, **params: object) -> int:
    async with admin_app.state.database.transaction() as tx:
        row = await tx.fetch_one(sql, params)
    assert row is not None
    return int(row["n"])


async def test_the_retention_in_force_is_shown(http: httpx.AsyncClient, account: Account) -> None:
    await sign_in(http, await account("admin"))
    page = await http.get("/admin/data")
    assert page.status_code == 200, page.text
    text = unescape(page.text)
    assert "effacées 90 jours après leur dernier message" in text
    assert "effacés 12 mois (de 30 jours) après leur clôture" in text
    assert "effacés 48 heures après" in text
    # Bookings go with their lead; an SMS's number and text, two days after it went.
    assert "Rendez-vous" in text
    assert "sa place est aussitôt libérée) ou 12 mois après la clôture du contact" in text
    assert "numéro et texte effacés 48 heures après l'envoi" in text
    assert "vidés de leurs données 30 jours après" in text
    assert "AIGUILLAGE_RETENTION_LEAD_MONTHS" in text
    assert "toutes les 24 heures" in text
    assert 'action="/admin/data/purge"' in text
    assert "Dernière purge lancée ici" not in text


@pytest.fixture
async def short_retention_app(settings: Settings, passwords: Passwords) -> AsyncIterator[FastAPI]:
    configured = settings.model_copy(
        update={"retention_conversation_days": 30, "retention_lead_months": 6}
    )
    # The accounts' cheap hasher (conftest), so that they sign in to this service too.
    application = create_app(configured, background=False, passwords=passwords)
    async with application.router.lifespan_context(application):
        yield application


async def test_the_page_shows_the_configured_periods(
    short_retention_app: FastAPI, account: Account
) -> None:
    await account("admin")  # admin1@poles.example, in the same database
    transport = httpx.ASGITransport(app=short_retention_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        await sign_in(browser, "admin1@poles.example")
        french = unescape((await browser.get("/admin/data")).text)
    assert "effacées 30 jours après leur dernier message" in french
    assert "effacés 6 mois (de 30 jours) après leur clôture" in french
    assert "ou 6 mois après la clôture du contact, rappels" in french


async def test_the_purge_button_erases_the_leads_closed_long_ago(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    endpoint_id = await register_endpoint(admin_app.state.database, "http://127.0.0.1:9/")
    old = await make_lead(admin_app, http, "session-old-closed")
    recent = await make_lead(admin_app, http, "session-recently-closed")
    still_open = await make_lead(admin_app, http, "session-still-open")
    await close(admin_app, old, "enrolled", days_ago=400)
    await close(admin_app, recent, "withdrawn", days_ago=20)
    async with admin_app.state.database.transaction() as tx:
        # Open for long, but never closed: the counsellors still follow it.
        await tx.write(
            "UPDATE leads SET created_at = :at WHERE id = :id",
            {"at": utcnow() - timedelta(days=800), "id": still_open},
        )
        await tx.write(
            "INSERT INTO lead_notes (lead_id, at, author, body) VALUES (:id, :at, 'c', 'Vu')",
            {"id": old, "at": utcnow() - timedelta(days=400)},
        )
    admin = await account("admin")
    await sign_in(http, admin)
    token = await csrf_of(http, "/admin/data")
    answer = await http.post("/admin/data/purge", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/data?done=purged"

    async with admin_app.state.database.transaction() as tx:
        leads = {row["id"] for row in await tx.fetch("SELECT id FROM leads")}
        audited = await tx.fetch("SELECT actor, detail FROM audit_log WHERE action = 'purge'")
        sent = await tx.fetch(
            "SELECT lead_id, event_type, body, failed_at FROM webhook_deliveries"
            " WHERE endpoint_id = :id",
            {"id": endpoint_id},
        )
    assert leads == {recent, still_open}
    # Its history and notes went with it.
    for table in ("lead_status_changes", "lead_notes"):
        sql = f"SELECT COUNT(*) AS n FROM {table} WHERE lead_id = :id"
        assert await count(admin_app, sql, id=old) == 0
    assert (
        await count(
            admin_app,
            "SELECT COUNT(*) AS n FROM lead_status_changes WHERE lead_id = :id",
            id=recent,
        )
        > 0
    )
    # Its webhooks keep their row, without the lead's data; nobody is told lead.deleted.
    old_sent = [row for row in sent if row["lead_id"] == old]
    assert old_sent
    assert all(row["body"] is None and row["failed_at"] is not None for row in old_sent)
    assert all(row["event_type"] != "lead.deleted" for row in sent)
    assert all(row["body"] is not None for row in sent if row["lead_id"] != old)
    assert len(audited) == 1
    assert audited[0]["actor"] == admin
    assert "leads=1" in audited[0]["detail"]
    assert "conversations=0" in audited[0]["detail"]

    shown = unescape((await http.get(answer.headers["location"])).text)
    assert "Purge effectuée." in shown
    assert "Dernière purge lancée ici" in shown
    assert admin in shown
    assert re.search(r"Contacts clos effacés</dt>\s*<dd>1</dd>", shown)


async def test_a_purge_without_the_form_token_is_refused(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    old = await make_lead(admin_app, http, "session-old-closed")
    await close(admin_app, old, "not_eligible", days_ago=400)
    await sign_in(http, await account("admin"))
    for data in ({}, {"csrf_token": "forged"}):
        answer = await http.post("/admin/data/purge", data=data)
        assert answer.status_code == 403
        assert "Formulaire expiré" in unescape(answer.text)
    assert await count(admin_app, "SELECT COUNT(*) AS n FROM leads") == 1
    assert await count(admin_app, "SELECT COUNT(*) AS n FROM audit_log") == 0


@pytest.mark.parametrize(
    ("role", "scope"),
    [("counsellor", {"sites": ["pantin"]}), ("partner", {"referrers": ["ML_POISSY"]})],
)
async def test_only_admins_see_the_data_page(
    admin_app: FastAPI,
    http: httpx.AsyncClient,
    account: Account,
    role: str,
    scope: dict[str, list[str]],
) -> None:
    old = await make_lead(admin_app, http, "session-old-closed")
    await close(admin_app, old, "unreachable", days_ago=400)
    await sign_in(http, await account(role, **scope))
    assert (await http.get("/admin/data")).status_code == 403
    assert (await http.post("/admin/data/purge", data={"csrf_token": "any"})).status_code == 403
    assert await count(admin_app, "SELECT COUNT(*) AS n FROM leads") == 1


async def test_anonymous_visitors_are_sent_to_sign_in(http: httpx.AsyncClient) -> None:
    page = await http.get("/admin/data")
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/login?next=%2Fadmin%2Fdata"
    assert (await http.post("/admin/data/purge")).status_code == 403
