"""Who is signed in: the session cookie, its CSRF token, where to go after signing in.

The session cookie carries a random token, signed with the service's key (itsdangerous); the
session itself lives in the database (bot/accounts/admin_sessions.py), so that signing out,
disabling the account or changing its password ends it at once. Every page reloads the account.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from itsdangerous import BadData, URLSafeTimedSerializer

from bot.accounts import audit_log
from bot.accounts.admin_sessions import SESSION_AGE, find_session
from bot.accounts.users import Role, User
from bot.clock import utcnow
from bot.settings import Settings
from bot.signing_key import SigningKey
from bot.storage.database import Database, Transaction

SESSION_COOKIE = "aiguillage_admin"
LOGIN_CSRF_COOKIE = "aiguillage_login_csrf"


@dataclass(frozen=True)
class Viewer:
    """The signed-in account, and the CSRF token of its session."""

    user: User
    csrf: str

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def email(self) -> str:
        return self.user.email


def _serializer(request: Request) -> URLSafeTimedSerializer:
    key: SigningKey = request.app.state.signing_key
    return URLSafeTimedSerializer(key.value.get_secret_value(), salt="admin-session")


def clock_of(request: Request) -> Callable[[], datetime]:
    """The service's clock (tests give their own to create_app)."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock


def session_cookie(request: Request, token: str) -> str:
    """The cookie's value for a session token: signed, so that a guessed value is refused."""
    return _serializer(request).dumps(token)


def session_token(request: Request) -> str | None:
    """The token of the request's cookie, if its signature is the service's and not too old."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        token = _serializer(request).loads(raw, max_age=int(SESSION_AGE.total_seconds()))
    except BadData:  # a wrong signature, an old cookie, or a payload not ours
        return None
    return token if isinstance(token, str) and token else None


def cookie_options(settings: Settings) -> dict[str, Any]:
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    return {"httponly": True, "samesite": "lax", "secure": secure, "path": "/admin"}


async def current_viewer(request: Request, database: Database) -> Viewer | None:
    """The account of the request's session, if the session is live and the account active."""
    token = session_token(request)
    if token is None:
        return None
    # A read: on SQLite it must not take the write lock that conversation steps wait for.
    async with database.reading() as tx:
        session = await find_session(tx, token, now=clock_of(request)())
    return Viewer(session.user, session.csrf) if session else None


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of the admin view only, never another site."""
    default = "/admin/leads"
    if not target or not target.startswith("/admin") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return default
    return target


async def audit(
    tx: Transaction,
    viewer: Viewer,
    action: str,
    *,
    lead_id: str | None = None,
    detail: str | None = None,
) -> None:
    """One line of the audit log: who, what, which lead; never the personal data itself."""
    await audit_log.record(
        tx, actor=viewer.email, action=action, at=utcnow(), lead_id=lead_id, detail=detail
    )
