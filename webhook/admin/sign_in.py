"""/admin/login and /admin/logout."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from bot.accounts.admin_sessions import end_session, open_session
from bot.accounts.sign_in_throttle import forget_attempt, take_attempt
from bot.accounts.users import Passwords, find_for_login, normalise_email
from bot.settings import Settings
from flows.i18n import N_
from webhook.admin.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Viewer,
    clock_of,
    cookie_options,
    csrf_matches,
    current_viewer,
    safe_next,
    session_cookie,
    session_token,
)
from webhook.admin.common import (
    ROLES_ALL,
    allow,
    checked_form,
    database_of,
    render,
    see_other,
)
from webhook.rate_limits import address_key, client_address

router = APIRouter(prefix="/admin", include_in_schema=False)


def _login_page(
    request: Request, *, error: str | None = None, status_code: int = 200, email: str = ""
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "admin/login.html",
        None,
        status_code=status_code,
        csrf_token=token,
        error=error,
        email=email,
        next=safe_next(request.query_params.get("next")),
    )
    settings: Settings = request.app.state.settings
    options = cookie_options(settings) | {"samesite": "strict"}
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, **options)
    return response


@router.get("/login")
async def login_page(request: Request) -> Response:
    if await current_viewer(request, database_of(request)) is not None:
        return see_other(safe_next(request.query_params.get("next")))
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token = form.get("csrf_token")
    if not csrf_matches(
        request.cookies.get(LOGIN_CSRF_COOKIE, ""), token if isinstance(token, str) else None
    ):
        return _login_page(request, error=N_("Formulaire expiré : réessayez."), status_code=403)
    email = normalise_email(str(form.get("email", "")))[:254]
    password = str(form.get("password", ""))[:1024]
    settings: Settings = request.app.state.settings
    # Behind a trusted reverse proxy, the client's own address: else everyone shares the proxy's.
    # Counted as the web chat counts it: an IPv6 address by its /64, one subscriber's network.
    address = address_key(client_address(request, settings.trusted_proxy_networks)) or "unknown"
    database = database_of(request)
    now = clock_of(request)()
    async with database.transaction() as tx:
        if not await take_attempt(tx, email=email, address=address, now=now):
            return _login_page(
                request,
                error=N_("Trop de tentatives. Réessayez dans 15 minutes."),
                status_code=429,
                email=email,
            )
        found = await find_for_login(tx, email)
    user, password_hash = found if found else (None, None)
    # One verification whatever the account (none, disabled, or a wrong password), so that the
    # time of the answer tells nothing; in a thread, so that chats go on meanwhile.
    passwords: Passwords = request.app.state.passwords
    usable_hash = password_hash if user is not None and user.active else None
    matches = await passwords.check(password, usable_hash)
    if user is None or not matches:
        return _login_page(
            request, error=N_("E-mail ou mot de passe incorrect."), status_code=401, email=email
        )
    async with database.transaction() as tx:
        await forget_attempt(tx, email=email, address=address, at=now)
        opened = await open_session(tx, user_id=user.id, now=now)
    response = see_other(safe_next(str(form.get("next", ""))))
    response.set_cookie(
        SESSION_COOKIE, session_cookie(request, opened.token), **cookie_options(settings)
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    return response


@router.post("/logout")
async def logout(
    request: Request, viewer: Annotated[Viewer, Depends(allow(*ROLES_ALL))]
) -> Response:
    await checked_form(request, viewer)
    token = session_token(request)
    if token is not None:
        # Ended here, not only forgotten by this browser: a copied cookie is refused too.
        async with database_of(request).transaction() as tx:
            await end_session(tx, token)
    response = see_other("/admin/login")
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response


@router.get("")
@router.get("/")
async def home(viewer: Annotated[Viewer, Depends(allow(*ROLES_ALL))]) -> Response:
    return see_other("/admin/leads")
