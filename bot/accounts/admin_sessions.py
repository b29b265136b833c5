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

from sqlalchemy import delete, insert, select

from bot.accounts.users import USER_COLUMNS, User, user_of
from bot.storage.database import Transaction
from bot.storage.models import AdminSession
from bot.storage.models import User as UserRow

SESSION_AGE = timedelta(hours=12)


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
    await tx.run(
        insert(AdminSession).values(
            id=_session_id(opened.token),
            user_id=user_id,
            csrf=opened.csrf,
            created_at=now,
            expires_at=now + SESSION_AGE,
        )
    )
    # Expired sessions are of no use: keep the table small.
    await tx.run(delete(AdminSession).where(AdminSession.expires_at < now))
    return opened


async def find_session(tx: Transaction, token: str, *, now: datetime) -> ActiveSession | None:
    """The session of this token, if it is neither ended nor expired and its account active."""
    row = await tx.first(
        select(*USER_COLUMNS, AdminSession.csrf)
        .join(AdminSession, AdminSession.user_id == UserRow.id)
        .where(
            AdminSession.id == _session_id(token),
            AdminSession.expires_at > now,
            UserRow.disabled_at.is_(None),
        )
    )
    return ActiveSession(user_of(row[:-1]), row[-1]) if row else None


async def end_session(tx: Transaction, token: str) -> None:
    await tx.run(delete(AdminSession).where(AdminSession.id == _session_id(token)))
