"""Partners' referral codes: registering them, and what each brought (conversations,
completions, leads, people who booked a session and who came to it, and enrolments).

Codes come from three places: the registered ``referrers``, and the codes conversations and
leads carry. A code that is not registered is stored as ``unknown`` (anyone can invent codes;
one row counts them all), and codes kept before that rule are counted in the same row.
Conversations are purged after the retention period, leads are not: the first two counts cover
the recent conversations, the others every lead still held (bookings are kept, and erased,
with their lead). Bookings and attendance count people, not bookings: someone who changed
their date twice booked once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Integer,
    case,
    func,
    insert,
    literal_column,
    select,
)

from bot.partners.codes import is_referral_code
from bot.storage.database import DuplicateKey, Transaction
from bot.storage.models import Conversation, Lead
from bot.storage.models import Referrer as ReferrerRow

# The one code that stands for every code not registered (see bot/conversations/service.py).
UNKNOWN_REFERRER = "unknown"
MAX_NAME = 200


class ReferrerError(ValueError):
    """A code or name that cannot be registered; the message says why."""


@dataclass(frozen=True)
class Referrer:
    """A registered referral code."""

    code: str
    name: str
    created_at: datetime | None


@dataclass(frozen=True)
class ReferrerStats:
    """One code's counts; ``referrer`` is None for a code that is not registered.

    ``code`` is None for the row of conversations and leads that came without any code.
    """

    code: str | None
    referrer: Referrer | None
    conversations: int = 0
    completions: int = 0
    leads: int = 0
    # Leads that have or had a booking, and leads marked present at one.
    bookings: int = 0
    attendances: int = 0
    enrolments: int = 0


def _one_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where a condition holds, else 0 (written in the SQL: PostgreSQL cannot tell the type
    of a parameter inside CASE)."""
    return case((condition, literal_column("1", Integer)), else_=literal_column("0", Integer))


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows of a group meet a condition."""
    return func.sum(_one_if(condition))


_REFERRER = select(ReferrerRow.code, ReferrerRow.name, ReferrerRow.created_at)
# Counted by status and summed here: the index (referrer_code, status) gives the groups in
# order, one count each, where a CASE per row cost twice as long at a million conversations.
_CONVERSATIONS = select(Conversation.referrer_code, Conversation.status, func.count()).group_by(
    Conversation.referrer_code, Conversation.status
)
# Leads enrolled once (a lead may have moved on since: it still counts), leads that booked
# (whatever became of the booking since) and leads present at a session: kept on each lead
# (bot/leads/outcomes.py), so that the figures are one read of an index that holds them.
_LEADS = select(
    Lead.referrer_code,
    func.count(),
    _count_where(Lead.enrolled_once.is_(True)),
    _count_where(Lead.booked.is_(True)),
    _count_where(Lead.attended.is_(True)),
).group_by(Lead.referrer_code)


def check_referrer(code: str, name: str) -> None:
    """Whether a code may be registered under this name; a ReferrerError names what is wrong."""
    if not is_referral_code(code):
        raise ReferrerError(f"code {code!r}: expected 1-64 characters among A-Z a-z 0-9 _ -")
    if code == UNKNOWN_REFERRER:
        # It counts every unregistered code: a partner with it would get invented ones.
        raise ReferrerError(f"code {code!r} stands for every unregistered code: choose another")
    if not 0 < len(name) <= MAX_NAME:
        raise ReferrerError(f"--name: expected 1-{MAX_NAME} characters")


async def add_referrer(tx: Transaction, code: str, name: str) -> Referrer:
    """Register a code under a name (already stripped)."""
    check_referrer(code, name)
    try:
        await tx.run(insert(ReferrerRow).values(code=code, name=name))
    except DuplicateKey:
        raise ReferrerError(f"code {code!r} is already registered") from None
    added = await get_referrer(tx, code)
    assert added is not None
    return added


async def get_referrer(tx: Transaction, code: str) -> Referrer | None:
    """A registered code, if it is one."""
    row = await tx.first(_REFERRER.where(ReferrerRow.code == code))
    return Referrer(*row) if row else None


async def list_referrers(tx: Transaction) -> list[Referrer]:
    """Every registered code, in the order of the codes."""
    return [Referrer(*row) for row in await tx.all(_REFERRER.order_by(ReferrerRow.code))]


async def referrer_stats(tx: Transaction) -> list[ReferrerStats]:
    """Every code with its counts: registered ones by name, then unregistered ones by code,
    then (if any) what came without a code."""
    registered = {row[0]: Referrer(*row) for row in await tx.all(_REFERRER)}
    counts: dict[str | None, dict[str, int]] = {code: {} for code in registered}

    def add(code: str | None, **numbers: int) -> None:
        if code is not None and code not in registered:
            code = UNKNOWN_REFERRER
        row = counts.setdefault(code, {})
        for name, number in numbers.items():
            row[name] = row.get(name, 0) + number

    for code, status, conversations in await tx.all(_CONVERSATIONS):
        done = int(conversations) if status == "done" else 0
        add(code, conversations=int(conversations), completions=done)
    for code, leads, enrolments, booked, attended in await tx.all(_LEADS):
        add(
            code,
            leads=int(leads),
            enrolments=int(enrolments or 0),
            bookings=int(booked or 0),
            attendances=int(attended or 0),
        )
    stats = [
        ReferrerStats(code, registered.get(code) if code is not None else None, **numbers)
        for code, numbers in counts.items()
    ]

    def order(item: ReferrerStats) -> tuple[int, str]:
        if item.referrer is not None:
            return (0, item.referrer.name.casefold() + "\0" + (item.code or ""))
        return (1, item.code) if item.code is not None else (2, "")

    return sorted(stats, key=order)
