"""Web chat sessions: the token the server hands a browser, and how long it opens anything.

A browser is often shared (a Mission locale's public PC, a family phone) and the token is
the only key to a person's answers. So the server makes it (256 random bits, never one the
client chose), stores only its SHA-256 (a copy of the database opens no live session), and
honours it only while the conversation was active within the idle window.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.conversations import repository
from bot.storage.database import Transaction

WEB_CHANNEL = "web"
DEFAULT_IDLE = timedelta(minutes=30)
TOKEN_BYTES = 32
# What secrets.token_urlsafe(32) gives: anything else was not issued here.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    """A fresh session token for a browser."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def external_id_of(token: str) -> str:
    """The conversation key stored for a token: its hash, never the token itself."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class LiveSession:
    """A token that still opens its conversation."""

    token: str
    external_id: str
    done: bool


async def live_session(
    tx: Transaction, token: str | None, *, now: datetime, idle: timedelta = DEFAULT_IDLE
) -> LiveSession | None:
    """The session a token opens, or None: unknown, made up, erased or idle for too long."""
    if token is None or not TOKEN_PATTERN.fullmatch(token):
        return None
    external_id = external_id_of(token)
    found = await repository.activity(tx, channel=WEB_CHANNEL, external_id=external_id)
    if found is None:
        return None
    done, active_at = found
    if now - active_at > idle:
        return None
    return LiveSession(token=token, external_id=external_id, done=done)
