"""Accounts of the admin view: who may sign in, with which role, for which sites or referrers."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, cast, get_args

from pwdlib import PasswordHash
from sqlalchemy import delete, insert, select, update

from bot.clock import new_id
from bot.partners.codes import is_referral_code
from bot.storage.database import DuplicateKey, Transaction
from bot.storage.models import AdminSession
from bot.storage.models import User as UserRow
from flows.catalogue import default_catalogue

Role = Literal["admin", "counsellor", "partner"]
ROLES: tuple[Role, ...] = get_args(Role)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")
MIN_PASSWORD = 12


class Hasher(Protocol):
    """What hashes passwords: pwdlib's Argon2id in service, something cheap in some tests."""

    def hash(self, password: str) -> str: ...

    def verify(self, password: str, hash: str) -> bool: ...


class Passwords:
    """Hashes and checks passwords; every check costs exactly one verification.

    A check of an unknown or disabled account verifies a dummy hash, so that its answer takes
    as long as a wrong password's and nobody can tell which e-mails have an account.
    """

    def __init__(self, hasher: Hasher | None = None, *, concurrent_checks: int = 2) -> None:
        # Argon2id with pwdlib's recommended parameters.
        self._hasher: Hasher = hasher or PasswordHash.recommended()
        # Made now, not at the first unknown e-mail, whose answer would then take twice as long.
        self._dummy_hash = self._hasher.hash("not a password of anyone")
        self._concurrent_checks = concurrent_checks
        self._threads: ThreadPoolExecutor | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def matches(self, password: str, password_hash: str | None) -> bool:
        """Whether the password is the hash's; with None, the same work and False."""
        if password_hash is None:
            self._hasher.verify(password, self._dummy_hash)
            return False
        return bool(self._hasher.verify(password, password_hash))

    async def check(self, password: str, password_hash: str | None) -> bool:
        """``matches`` in threads of its own, so that the event loop serves chats meanwhile.

        Few threads: Argon2 takes 64 MiB and a core per check, so a flood of sign-ins waits
        in line instead of taking the machine (and the loop's default threads) from the rest.
        """
        if self._threads is None:
            self._threads = ThreadPoolExecutor(
                self._concurrent_checks, thread_name_prefix="password-check"
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self.matches, password, password_hash)


DEFAULT_PASSWORDS = Passwords()


class UserError(ValueError):
    """A wrong account argument; the message names it."""


@dataclass(frozen=True)
class User:
    id: str
    email: str
    role: Role
    sites: tuple[str, ...]
    referrers: tuple[str, ...]
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_account(
    email: str, role: str, sites: list[str], referrers: list[str], password: str | None
) -> None:
    """Every rule an account must follow, each failure naming its argument."""
    if not EMAIL.match(email):
        raise UserError(f"e-mail {email!r}: expected an address such as camille@poles.example")
    if role not in ROLES:
        raise UserError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    known = [site.id for site in default_catalogue().sites]
    for site in sites:
        if site not in known:
            raise UserError(f"--site {site!r}: expected one of {', '.join(known)}")
    for code in referrers:
        if not is_referral_code(code):
            raise UserError(f"--referrer {code!r}: expected 1-64 characters A-Z a-z 0-9 _ -")
    if role == "counsellor" and not sites:
        raise UserError("a counsellor needs at least one --site (the leads they follow)")
    if role == "partner" and not referrers:
        raise UserError("a partner needs at least one --referrer (the codes it shared)")
    if role == "admin" and (sites or referrers):
        raise UserError("an admin sees everything: no --site nor --referrer")
    if role == "counsellor" and referrers:
        raise UserError("a counsellor is given sites, not referrers")
    if role == "partner" and sites:
        raise UserError("a partner is given referrers, not sites")
    if password is not None:
        check_password(password)


def check_password(password: str) -> None:
    """A password long enough to be an account's."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: expected at least {MIN_PASSWORD} characters")


# An account as stored, in this order: what ``user_of`` reads (bot/accounts/admin_sessions.py
# selects it beside its own columns).
USER_COLUMNS = (
    UserRow.id,
    UserRow.email,
    UserRow.role,
    UserRow.sites,
    UserRow.referrers,
    UserRow.created_at,
    UserRow.disabled_at,
)
StoredUser = tuple[str, str, str, list[str], list[str], datetime, datetime | None]


def user_of(row: StoredUser) -> User:
    """The account of a row holding USER_COLUMNS, in their order."""
    user_id, email, role, sites, referrers, created_at, disabled_at = row
    return User(
        id=user_id,
        email=email,
        # Stored by add_user only, after check_account.
        role=cast(Role, role),
        sites=tuple(sites or ()),
        referrers=tuple(referrers or ()),
        created_at=created_at,
        disabled_at=disabled_at,
    )


async def add_user(
    tx: Transaction,
    *,
    email: str,
    password: str,
    role: str,
    sites: list[str],
    referrers: list[str],
    now: datetime,
    passwords: Passwords = DEFAULT_PASSWORDS,
) -> User:
    email = normalise_email(email)
    check_account(email, role, sites, referrers, password)
    user_id = new_id()
    try:
        await tx.run(
            insert(UserRow).values(
                id=user_id,
                email=email,
                password_hash=passwords.hash(password),
                role=role,
                sites=sites,
                referrers=referrers,
                created_at=now,
            )
        )
    except DuplicateKey:
        raise UserError(f"{email} already has an account") from None
    user = await get_user(tx, user_id)
    assert user is not None
    return user


async def get_user(tx: Transaction, user_id: str) -> User | None:
    row = await tx.first(select(*USER_COLUMNS).where(UserRow.id == user_id))
    return user_of(row) if row else None


async def find_for_login(tx: Transaction, email: str) -> tuple[User, str] | None:
    """The account of an e-mail and its password's hash."""
    row = await tx.first(
        select(*USER_COLUMNS, UserRow.password_hash).where(UserRow.email == normalise_email(email))
    )
    return (user_of(row[:-1]), row[-1]) if row else None


async def list_users(tx: Transaction) -> list[User]:
    return [user_of(row) for row in await tx.all(select(*USER_COLUMNS).order_by(UserRow.email))]


async def set_disabled(tx: Transaction, email: str, *, now: datetime) -> None:
    """Stop an account: it cannot sign in, and each of its sessions ends now."""
    count = await tx.run(
        update(UserRow)
        .where(UserRow.email == normalise_email(email), UserRow.disabled_at.is_(None))
        .values(disabled_at=now)
    )
    if not count:
        found = await find_for_login(tx, email)
        if found is None:
            raise UserError(f"no account for {normalise_email(email)} (see: aiguillage users list)")
    await _end_sessions(tx, email)


async def set_password(
    tx: Transaction, email: str, password: str, *, passwords: Passwords = DEFAULT_PASSWORDS
) -> None:
    """Give an account a new password; whoever was signed in with the old one is signed out."""
    check_password(password)
    count = await tx.run(
        update(UserRow)
        .where(UserRow.email == normalise_email(email))
        .values(password_hash=passwords.hash(password))
    )
    if not count:
        raise UserError(f"no account for {normalise_email(email)} (see: aiguillage users list)")
    await _end_sessions(tx, email)


async def _end_sessions(tx: Transaction, email: str) -> None:
    # The sessions are bot/accounts/admin_sessions.py's, which reads accounts: its table is
    # reached through the model, not through that module.
    account = select(UserRow.id).where(UserRow.email == normalise_email(email))
    await tx.run(delete(AdminSession).where(AdminSession.user_id.in_(account)))
