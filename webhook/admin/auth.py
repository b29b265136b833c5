"""Signing in: Argon2 passwords, a signed session cookie, CSRF tokens, throttled attempts.

The session cookie holds the account id and the session's CSRF token, signed with the
service's secret key (itsdangerous) and valid 12 hours. Every page reloads the account, so a
disabled account is out at its next click.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.settings import Settings
from bot.storage.raw import RawDatabase, Transaction
from bot.storage.types import utcnow
from bot.users import Role, User, get_user

SESSION_COOKIE = "aiguillage_admin"
LOGIN_CSRF_COOKIE = "aiguillage_login_csrf"
SESSION_AGE = timedelta(hours=12)
# Sign-in throttling: failures counted over this window, per account and per address.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


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


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="admin-session")


def session_value(settings: Settings, user_id: str) -> str:
    return _serializer(settings).dumps({"u": user_id, "c": secrets.token_urlsafe(32)})


def cookie_options(settings: Settings) -> dict[str, Any]:
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    return {"httponly": True, "samesite": "lax", "secure": secure, "path": "/admin"}


async def current_viewer(request: Request, database: RawDatabase) -> Viewer | None:
    """The account of the request's session, if it is valid and the account still active."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    settings: Settings = request.app.state.settings
    try:
        data = _serializer(settings).loads(raw, max_age=int(SESSION_AGE.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        return None
    async with database.transaction() as tx:
        user = await get_user(tx, data["u"])
    if user is None or not user.active:
        return None
    return Viewer(user, str(data.get("c", "")))


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


async def too_many_failures(tx: Transaction, email: str, address: str) -> bool:
    since = utcnow() - THROTTLE_WINDOW
    rows = await tx.fetch(
        "SELECT key, COUNT(*) AS n FROM login_attempts WHERE key IN (:email, :address)"
        " AND at > :since GROUP BY key",
        {"email": f"email:{email}", "address": f"ip:{address}", "since": since},
    )
    counts = {row["key"]: int(row["n"]) for row in rows}
    return (
        counts.get(f"email:{email}", 0) >= MAX_FAILURES_PER_ACCOUNT
        or counts.get(f"ip:{address}", 0) >= MAX_FAILURES_PER_ADDRESS
    )


async def record_failure(tx: Transaction, email: str, address: str) -> None:
    now = utcnow()
    await tx.execute_many(
        "INSERT INTO login_attempts (key, at) VALUES (:key, :now)",
        [{"key": f"email:{email}", "now": now}, {"key": f"ip:{address}", "now": now}],
    )
    # Old attempts are of no use: keep the table small.
    await tx.write("DELETE FROM login_attempts WHERE at < :old", {"old": now - THROTTLE_WINDOW * 4})


async def forget_failures(tx: Transaction, email: str) -> None:
    await tx.write("DELETE FROM login_attempts WHERE key = :key", {"key": f"email:{email}"})


async def audit(
    tx: Transaction,
    viewer: Viewer,
    action: str,
    *,
    lead_id: str | None = None,
    detail: str | None = None,
) -> None:
    """One line of the audit log: who, what, which lead; never the personal data itself."""
    await tx.write(
        "INSERT INTO audit_log (at, actor, action, lead_id, detail)"
        " VALUES (:at, :actor, :action, :lead_id, :detail)",
        {
            "at": utcnow(),
            "actor": viewer.email,
            "action": action,
            "lead_id": lead_id,
            "detail": detail[:300] if detail else None,
        },
    )
