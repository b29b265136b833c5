"""Slowing down password guessing without letting a stranger lock a counsellor out.

Failures are counted over a window by account and address together (tight: a guesser at one
place), by address (a guesser trying many accounts) and by account (many places at once; much
higher, since anyone can fail on anyone's account). A person at another address, or at the
same one once they sign in, is not held back by someone else's failures on their account
below that high limit. Keys are hashed: the table holds no e-mail nor address in clear.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select, union_all

from bot.storage.database import Transaction
from bot.storage.lock_keys import SIGN_IN_LOCK
from bot.storage.models import LoginAttempt

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_ACCOUNT = 100


def _keys(email: str, address: str) -> dict[str, str]:
    def key(kind: str, value: str) -> str:
        return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"

    return {
        "pair": key("pair", f"{address} {email}"),
        "address": key("ip", address),
        "account": key("email", email),
    }


async def take_attempt(tx: Transaction, *, email: str, address: str, now: datetime) -> bool:
    """Whether this sign-in may have its password checked; if so, it is counted already.

    Counted before the check and in turn with the other sign-ins: the check takes a quarter
    of a second off the event loop, and guesses sent all at once must not each find the count
    still low. A success takes its count back (forget_attempt).
    """
    await tx.lock_chat(SIGN_IN_LOCK)
    if await is_throttled(tx, email=email, address=address, now=now):
        return False
    await record_attempt(tx, email=email, address=address, now=now)
    return True


async def is_throttled(tx: Transaction, *, email: str, address: str, now: datetime) -> bool:
    """Whether this sign-in must wait: too many recent failures by one of the three counts."""
    keys = _keys(email, address)
    rows = await tx.all(
        select(LoginAttempt.key, func.count())
        .where(LoginAttempt.key.in_(list(keys.values())), LoginAttempt.at > now - THROTTLE_WINDOW)
        .group_by(LoginAttempt.key)
    )
    counts = {key: int(count) for key, count in rows}
    return (
        counts.get(keys["pair"], 0) >= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
        or counts.get(keys["address"], 0) >= MAX_FAILURES_PER_ADDRESS
        or counts.get(keys["account"], 0) >= MAX_FAILURES_PER_ACCOUNT
    )


async def record_attempt(tx: Transaction, *, email: str, address: str, now: datetime) -> None:
    """Count a sign-in as failed, before its password is checked (see take_attempt)."""
    await tx.run(
        insert(LoginAttempt).values(
            [{"key": key, "at": now} for key in _keys(email, address).values()]
        )
    )
    # Old attempts are of no use: keep the table small.
    await tx.run(delete(LoginAttempt).where(LoginAttempt.at < now - THROTTLE_WINDOW))


async def forget_attempt(tx: Transaction, *, email: str, address: str, at: datetime) -> None:
    """After a success: this attempt was no failure, and this person's own slips at this place
    no longer count.

    The account's and the address's earlier failures stay: a success proves nothing about
    the others.
    """
    keys = _keys(email, address)
    # The attempt take_attempt counted at this time, by the address and by the account.
    counted = union_all(
        *(
            select(func.max(LoginAttempt.id)).where(LoginAttempt.key == key, LoginAttempt.at == at)
            for key in (keys["address"], keys["account"])
        )
    )
    await tx.run(
        delete(LoginAttempt).where(
            or_(LoginAttempt.key == keys["pair"], LoginAttempt.id.in_(counted))
        )
    )
