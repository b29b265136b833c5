"""Sessions of the admin view, kept server-side so that they can be ended before they expire.

A signed cookie alone stays valid until its age runs out, whatever happens to the account.
Here each sign-in opens a row; the cookie carries a random token whose SHA-256 is the row's
id (a copy of the table gives no usable cookie). Signing out deletes the row; disabling an
account or changing its password deletes all of its rows (bot/accounts/users.py).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.accounts.users import USER_COLUMNS, User, user_from_row
from bot.storage.database import Transaction

SESSION_AGE = timedelta(hours=12)
_USER_COLUMNS = ", ".join(f"u.{name}" for name in USER_COLUMNS)


@dataclass(frozen=True)
class OpenedSession:
    """What the browser is given: the token for its cookie (kept nowhere else)."""

    token: str
    csrf: str


@dataclass(frozen=True)
class ActiveSession:
    """A live session's account (active) and the CSRF token of its forms."""

    user: User
    csrf: str


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(tx: Transaction, *, user_id: str, now: datetime) -> OpenedSession:
    """A new session for this account, valid SESSION_AGE."""
    opened = OpenedSession(token=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32))
    await tx.execute(
        "INSERT INTO admin_sessions (id, user_id, csrf, created_at, expires_at)"
        " VALUES (:id, :user_id, :csrf, :now, :expires)",
        {
            "id": _session_id(opened.token),
            "user_id": user_id,
            "csrf": opened.csrf,
            "now": now,
            "expires": now + SESSION_AGE,
        },
    )
    # Expired sessions are of no use: keep the table small.
    await tx.write("DELETE FROM admin_sessions WHERE expires_at < :now", {"now": now})
    return opened


async def find_session(tx: Transaction, token: str, *, now: datetime) -> ActiveSession | None:
    """The session of this token, if it is neither ended nor expired and its account active."""
    row = await tx.fetch_one(
        f"SELECT {_USER_COLUMNS}, s.csrf FROM admin_sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.id = :id AND s.expires_at > :now AND u.disabled_at IS NULL",
        {"id": _session_id(token), "now": now},
    )
    return ActiveSession(user_from_row(row), row["csrf"]) if row else None


async def end_session(tx: Transaction, token: str) -> None:
    await tx.execute("DELETE FROM admin_sessions WHERE id = :id", {"id": _session_id(token)})
