"""Nobody reaches what is not theirs: every admin route, each role, CSRF, escaping, throttling."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.auxil.admin_browser import PASSWORD, Account, csrf_of, sign_in
from tests.auxil.web_chat import web_chat_lead
from webhook.admin.mount import ROUTERS

# Pages a partner may open (its own referrals, in the follow-up view).
PARTNER_ROUTES = {
    "/admin",
    "/admin/",
    "/admin/leads",
    "/admin/leads.csv",
    "/admin/leads/{lead_id}",
    "/admin/logout",
}
# Pages a counsellor may open; the others are the admin's.
COUNSELLOR_ROUTES = PARTNER_ROUTES | {
    "/admin/leads/{lead_id}/status",
    "/admin/leads/{lead_id}/notes",
    "/admin/leads/{lead_id}/assign",
    "/admin/leads/{lead_id}/reply",
    "/admin/leads/{lead_id}/hand-back",
    "/admin/referrers",
    "/admin/referrers/{code}/qr.svg",
    "/admin/referrers/{code}/qr.png",
    "/admin/referrers/{code}/poster",
    "/admin/funnel",
    "/admin/sessions",
    "/admin/sessions/{session_id}",
    "/admin/sessions/{session_id}/cancel",
    "/admin/sessions/{session_id}/move",
    "/admin/sessions/{session_id}/bookings/{booking_id}/attendance",
}
PUBLIC = {"/admin/login"}


def admin_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every route of the admin view's routers (as mounted by webhook/admin/mount.py)."""
    found = []
    for route in (r for router in ROUTERS for r in router.routes):
        if isinstance(route, APIRoute) and route.path.startswith("/admin"):
            if route.path in PUBLIC:
                continue
            found += [(method, route.path) for method in sorted(route.methods or ())]
    assert len(found) > 15, found  # the table below follows the routes as they grow
    return found


def concrete(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x" * 32), path)


async def call(
    client: httpx.AsyncClient, method: str, path: str, data: dict[str, Any]
) -> httpx.Response:
    if method in ("GET", "HEAD"):
        return await client.request(method, path)
    return await client.request(method, path, data=data)


@pytest.fixture
async def lead_id(admin_app: FastAPI) -> str:
    return await web_chat_lead(admin_app, "session-security-0001")


async def test_every_admin_route_refuses_a_visitor_without_session(
    admin_app: FastAPI, http: httpx.AsyncClient, lead_id: str
) -> None:
    values = {"lead_id": lead_id, "code": "ML_POISSY"}
    for method, route in admin_routes(admin_app):
        path = concrete(route, values)
        response = await call(http, method, path, {})
        if method == "GET":
            assert response.status_code == 303, (method, route)
            assert response.headers["location"].startswith("/admin/login?next="), route
        else:
            assert response.status_code == 403, (method, route, response.status_code)


async def test_every_admin_route_refuses_a_partner_beyond_its_referrals(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, lead_id: str
) -> None:
    await sign_in(http, await account("partner", referrers=["ML_PANTIN"]))
    token = await csrf_of(http)
    values = {"lead_id": lead_id, "code": "ML_POISSY"}
    for method, route in admin_routes(admin_app):
        if route in ("/admin", "/admin/", "/admin/leads", "/admin/leads.csv", "/admin/logout"):
            continue
        response = await call(http, method, concrete(route, values), {"csrf_token": token})
        # Another partner's lead does not exist for it (404); the rest is not for partners.
        expected = 404 if route in PARTNER_ROUTES else 403
        assert response.status_code == expected, (method, route, response.status_code)


async def test_every_lead_route_refuses_a_counsellor_of_another_site(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, lead_id: str
) -> None:
    await sign_in(http, await account("counsellor", sites=["poissy"]))
    token = await csrf_of(http)
    values = {"lead_id": lead_id, "code": "ML_POISSY"}
    for method, route in admin_routes(admin_app):
        if route in COUNSELLOR_ROUTES and "{lead_id}" not in route:
            continue
        response = await call(
            http,
            method,
            concrete(route, values),
            {"csrf_token": token, "status": "enrolled", "body": "x"},
        )
        expected = 404 if "{lead_id}" in route else 403
        assert response.status_code == expected, (method, route, response.status_code)
    async with admin_app.state.database.transaction() as tx:
        row = await tx.fetch_one("SELECT status FROM leads WHERE id = :id", {"id": lead_id})
    assert row is not None
    assert row["status"] == "new"


async def test_a_form_without_its_csrf_token_changes_nothing(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, lead_id: str
) -> None:
    await sign_in(http, await account("admin"))
    for data in ({"status": "enrolled"}, {"status": "enrolled", "csrf_token": "forged"}):
        refused = await http.post(f"/admin/leads/{lead_id}/status", data=data)
        assert refused.status_code == 403
        assert "Formulaire expiré" in refused.text
    async with admin_app.state.database.transaction() as tx:
        row = await tx.fetch_one("SELECT status FROM leads WHERE id = :id", {"id": lead_id})
    assert row is not None
    assert row["status"] == "new"


async def test_a_name_made_of_html_is_shown_as_text(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account, lead_id: str
) -> None:
    async with admin_app.state.database.transaction() as tx:
        await tx.execute(
            "UPDATE leads SET first_name = :name WHERE id = :id",
            {"name": "<script>alert(1)</script>", "id": lead_id},
        )
    await sign_in(http, await account("admin"))
    for path in ("/admin/leads", f"/admin/leads/{lead_id}"):
        page = await http.get(path)
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "script-src" not in page.headers["content-security-policy"]  # no script at all
        assert page.headers["x-frame-options"] == "DENY"


async def test_wrong_passwords_are_throttled(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    email = await account("counsellor", sites=["pantin"])
    for _ in range(5):
        assert (await sign_in(http, email, "not the password!")).status_code == 401
    blocked = await sign_in(http, email, PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text
    assert "aiguillage_admin" not in blocked.headers.get("set-cookie", "")


async def test_signing_in_goes_back_only_to_a_page_of_the_admin_view(
    http: httpx.AsyncClient, account: Account
) -> None:
    email = await account("admin")
    for target, expected in (
        ("/admin/funnel", "/admin/funnel"),
        ("https://evil.example/admin", "/admin/leads"),
        ("//evil.example/admin", "/admin/leads"),
        ("/admin\\@evil.example", "/admin/leads"),
    ):
        http.cookies.clear()
        page = await http.get("/admin/login", params={"next": target})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        done = await http.post(
            "/admin/login",
            data={
                "csrf_token": token.group(1),
                "email": email,
                "password": PASSWORD,
                "next": target,
            },
        )
        assert done.headers["location"] == expected, target


async def test_the_session_cookie_is_httponly_samesite_and_a_disabled_account_is_out(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    email = await account("admin")
    signed = await sign_in(http, email)
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert (await http.get("/admin/leads")).status_code == 200
    async with admin_app.state.database.transaction() as tx:
        await tx.execute("UPDATE users SET disabled_at = created_at WHERE email = :e", {"e": email})
    assert (await http.get("/admin/leads")).status_code == 303
