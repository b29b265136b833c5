"""Accounts of the admin view: who may sign in, with which role, for which sites or referrers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from pwdlib import PasswordHash

from bot.storage.models import new_id
from bot.storage.raw import DuplicateKey, Row, Transaction, as_datetime, as_json
from flows.catalogue import default_catalogue

Role = Literal["admin", "counsellor", "partner"]
ROLES: tuple[Role, ...] = get_args(Role)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MIN_PASSWORD = 12
# Argon2id with pwdlib's recommended parameters.
_HASHER = PasswordHash.recommended()
# Verified when the e-mail is unknown, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


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
        if not CODE.match(code):
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
    if password is not None and len(password) < MIN_PASSWORD:
        raise UserError(f"password: expected at least {MIN_PASSWORD} characters")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the account exists."""
    if password_hash is None:
        _HASHER.verify(password, _DUMMY_HASH)
        return False
    return bool(_HASHER.verify(password, password_hash))


_COLUMNS = "id, email, role, sites, referrers, created_at, disabled_at"


def _user(row: Row) -> User:
    created_at = as_datetime(row["created_at"])
    assert created_at is not None
    return User(
        id=row["id"],
        email=row["email"],
        role=row["role"],
        sites=tuple(as_json(row["sites"]) or ()),
        referrers=tuple(as_json(row["referrers"]) or ()),
        created_at=created_at,
        disabled_at=as_datetime(row["disabled_at"]),
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
) -> User:
    email = normalise_email(email)
    check_account(email, role, sites, referrers, password)
    user_id = new_id()
    try:
        await tx.execute(
            "INSERT INTO users (id, email, password_hash, role, sites, referrers, created_at)"
            " VALUES (:id, :email, :hash, :role, :sites, :referrers, :now)",
            {
                "id": user_id,
                "email": email,
                "hash": hash_password(password),
                "role": role,
                "sites": sites,
                "referrers": referrers,
                "now": now,
            },
        )
    except DuplicateKey:
        raise UserError(f"{email} already has an account") from None
    user = await get_user(tx, user_id)
    assert user is not None
    return user


async def get_user(tx: Transaction, user_id: str) -> User | None:
    row = await tx.fetch_one(f"SELECT {_COLUMNS} FROM users WHERE id = :id", {"id": user_id})
    return _user(row) if row else None


async def find_for_login(tx: Transaction, email: str) -> tuple[User, str] | None:
    row = await tx.fetch_one(
        f"SELECT {_COLUMNS}, password_hash FROM users WHERE email = :email",
        {"email": normalise_email(email)},
    )
    return (_user(row), row["password_hash"]) if row else None


async def list_users(tx: Transaction) -> list[User]:
    return [_user(r) for r in await tx.fetch(f"SELECT {_COLUMNS} FROM users ORDER BY email")]


async def set_disabled(tx: Transaction, email: str, *, now: datetime) -> None:
    count = await tx.execute(
        "UPDATE users SET disabled_at = :now WHERE email = :email AND disabled_at IS NULL",
        {"now": now, "email": normalise_email(email)},
    )
    if not count:
        found = await find_for_login(tx, email)
        if found is None:
            raise UserError(f"no account for {normalise_email(email)} (see: aiguillage users list)")
