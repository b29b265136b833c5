"""/admin/deliveries: the lead webhooks that failed or wait, and sending them again."""

from __future__ import annotations

from html import unescape

import httpx
import pytest
from fastapi import FastAPI

from bot.clock import utcnow
from bot.leads import endpoints
from tests.auxil.admin_browser import PROFILE, Account, csrf_of, sign_in
from tests.auxil.servers import unused_port
from tests.auxil.web_chat import drive
from tests.auxil.webhook_receiver import register_endpoint
from webhook.handoff.worker import DeliveryWorker


async def add_endpoint(admin_app: FastAPI, name: str, *, enabled: bool = True) -> str:
    """A receiver of every lead, on a port nobody listens on."""
    database = admin_app.state.database
    endpoint_id = await register_endpoint(
        database, f"http://127.0.0.1:{unused_port()}/hooks", name=name
    )
    async with database.transaction() as tx:
        if not enabled:
            await endpoints.set_enabled(tx, endpoint_id, False, now=utcnow())
    return endpoint_id


async def deliver_once(admin_app: FastAPI) -> int:
    """One round of the worker, giving up at the first failure."""
    worker = DeliveryWorker(admin_app.state.database, schedule=())
    try:
        return await worker.deliver_due()
    finally:
        await worker.close()


async def deliveries(
    admin_app: FastAPI, state: endpoints.DeliveryState | None = None
) -> list[endpoints.DeliveryInfo]:
    async with admin_app.state.database.transaction() as tx:
        return await endpoints.list_deliveries(tx, state=state)


@pytest.fixture
async def failed_and_pending(admin_app: FastAPI, http: httpx.AsyncClient) -> str:
    """A lead whose webhook failed for one receiver and waits for a disabled one: its id."""
    crm = await add_endpoint(admin_app, "CRM Pantin")
    await add_endpoint(admin_app, "CRM en pause", enabled=False)
    await drive(http, PROFILE)
    assert await deliver_once(admin_app) > 0
    failed = await deliveries(admin_app, "failed")
    pending = await deliveries(admin_app, "pending")
    assert failed
    assert {d.endpoint_id for d in failed} == {crm}
    assert pending
    assert all(d.endpoint_id != crm for d in pending)
    return failed[0].lead_id


async def audit_lines(admin_app: FastAPI) -> list[dict[str, str]]:
    async with admin_app.state.database.transaction() as tx:
        rows = await tx.fetch("SELECT actor, action, lead_id, detail FROM audit_log ORDER BY id")
    return [dict(row) for row in rows]


async def test_admins_see_failed_and_pending_deliveries(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, failed_and_pending: str
) -> None:
    await sign_in(http, await account("admin"))
    page = await http.get("/admin/deliveries")
    assert page.status_code == 200, page.text
    text = page.text
    assert "CRM Pantin" in text
    assert "CRM en pause" in text
    assert "désactivé" in text
    assert "lead.created" in text
    assert f'href="/admin/leads/{failed_and_pending}"' in text
    assert "ConnectError" in text  # the last answer: nobody listens
    assert "Relancer tous les envois en échec" in text
    for delivery in await deliveries(admin_app, "failed"):
        assert f'action="/admin/deliveries/{delivery.id}/replay"' in text
    # Pending ones cannot be replayed from here: they are still being tried.
    for delivery in await deliveries(admin_app, "pending"):
        assert f"/admin/deliveries/{delivery.id}/replay" not in text
    assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_a_replay_is_sent_again_and_audited(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, failed_and_pending: str
) -> None:
    admin = await account("admin")
    await sign_in(http, admin)
    token = await csrf_of(http, "/admin/deliveries")
    target = (await deliveries(admin_app, "failed"))[0]
    answer = await http.post(f"/admin/deliveries/{target.id}/replay", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/deliveries?done=replayed"
    again = {d.id: d for d in await deliveries(admin_app)}[target.id]
    assert again.state == "pending"
    assert again.attempts == 0
    lines = [line for line in await audit_lines(admin_app) if line["action"] == "replay_delivery"]
    assert lines == [
        {
            "actor": admin,
            "action": "replay_delivery",
            "lead_id": failed_and_pending,
            "detail": target.id,
        }
    ]
    shown = await http.get(answer.headers["location"])
    assert "Envoi relancé." in shown.text
    # The worker tries it again (and fails again: still nobody there).
    assert await deliver_once(admin_app) == 1
    assert {d.id: d for d in await deliveries(admin_app)}[target.id].state == "failed"


async def test_every_failed_delivery_can_be_replayed_at_once(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, failed_and_pending: str
) -> None:
    await sign_in(http, await account("admin"))
    failed = await deliveries(admin_app, "failed")
    token = await csrf_of(http, "/admin/deliveries")
    answer = await http.post("/admin/deliveries/replay-failed", data={"csrf_token": token})
    assert answer.status_code == 303
    assert await deliveries(admin_app, "failed") == []
    audited = [line for line in await audit_lines(admin_app) if line["action"] == "replay_delivery"]
    assert sorted(line["detail"] for line in audited) == sorted(
        f"{d.id} (all failed)" for d in failed
    )
    assert {line["lead_id"] for line in audited} == {failed_and_pending}


async def test_unknown_erased_or_unfailed_deliveries_are_refused(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, failed_and_pending: str
) -> None:
    await sign_in(http, await account("admin"))
    token = await csrf_of(http, "/admin/deliveries")
    unknown = await http.post("/admin/deliveries/msg_nothing/replay", data={"csrf_token": token})
    assert unknown.status_code == 404
    assert "Cet envoi n'existe pas ou plus." in unescape(unknown.text)
    target = (await deliveries(admin_app, "failed"))[0]
    longer = await http.post(
        f"/admin/deliveries/{target.id}{'x' * 40}/replay", data={"csrf_token": token}
    )
    assert longer.status_code == 404
    target = (await deliveries(admin_app, "failed"))[0]
    async with admin_app.state.database.transaction() as tx:
        await tx.write(
            "UPDATE webhook_deliveries SET body = NULL WHERE id = :id", {"id": target.id}
        )
    page = await http.get("/admin/deliveries")
    assert "données effacées" in page.text
    assert f"/admin/deliveries/{target.id}/replay" not in page.text
    erased = await http.post(f"/admin/deliveries/{target.id}/replay", data={"csrf_token": token})
    assert erased.status_code == 409
    assert "rien à renvoyer" in erased.text
    waiting = (await deliveries(admin_app, "pending"))[0]
    pending = await http.post(f"/admin/deliveries/{waiting.id}/replay", data={"csrf_token": token})
    assert pending.status_code == 409
    assert [line for line in await audit_lines(admin_app) if line["action"] != "view_lead"] == []


async def test_a_replay_without_the_form_token_is_refused(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, failed_and_pending: str
) -> None:
    await sign_in(http, await account("admin"))
    target = (await deliveries(admin_app, "failed"))[0]
    for data in ({}, {"csrf_token": "forged"}):
        answer = await http.post(f"/admin/deliveries/{target.id}/replay", data=data)
        assert answer.status_code == 403
        everything = await http.post("/admin/deliveries/replay-failed", data=data)
        assert everything.status_code == 403
    assert {d.id for d in await deliveries(admin_app, "failed")} >= {target.id}
    assert await audit_lines(admin_app) == []


@pytest.mark.parametrize(
    ("role", "scope"),
    [("counsellor", {"sites": ["pantin"]}), ("partner", {"referrers": ["ML_POISSY"]})],
)
async def test_only_admins_see_the_deliveries(
    admin_app: FastAPI,
    http: httpx.AsyncClient,
    account: Account,
    failed_and_pending: str,
    role: str,
    scope: dict[str, list[str]],
) -> None:
    await sign_in(http, await account(role, **scope))
    page = await http.get("/admin/deliveries")
    assert page.status_code == 403
    assert "Cette page n'est pas ouverte à votre compte." in unescape(page.text)
    # Refused on the role, whatever the form holds.
    target = (await deliveries(admin_app, "failed"))[0]
    for path in (f"/admin/deliveries/{target.id}/replay", "/admin/deliveries/replay-failed"):
        assert (await http.post(path, data={"csrf_token": "any"})).status_code == 403
    assert {d.id for d in await deliveries(admin_app, "failed")} >= {target.id}


async def test_anonymous_visitors_are_sent_to_sign_in(http: httpx.AsyncClient) -> None:
    page = await http.get("/admin/deliveries")
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/login?next=%2Fadmin%2Fdeliveries"
    posted = await http.post("/admin/deliveries/replay-failed", data={"csrf_token": "x"})
    assert posted.status_code == 403
