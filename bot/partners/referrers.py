"""What each referral code brought: conversations, completions, leads and enrolments.

Codes come from three places: the registered ``referrers``, and the codes conversations and
leads carry. A code that is not registered is stored as ``unknown`` (anyone can invent codes;
one row counts them all), and codes kept before that rule are counted in the same row.
Conversations are purged after the retention period, leads are not: the first two counts cover
the recent conversations, the last two every lead still held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.storage.database import Row, Transaction
from bot.storage.values import as_datetime

# The one code that stands for every code not registered (see bot/conversations/service.py).
UNKNOWN_REFERRER = "unknown"


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
    enrolments: int = 0


_CONVERSATIONS = (
    "SELECT referrer_code AS code, COUNT(*) AS conversations,"
    " SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS completions"
    " FROM conversations GROUP BY referrer_code"
)
# Enrolled now, or once (a lead may have moved on since: it still counts).
_LEADS = (
    "SELECT referrer_code AS code, COUNT(*) AS leads,"
    " SUM(CASE WHEN status = 'enrolled' OR EXISTS (SELECT 1 FROM lead_status_changes AS c"
    " WHERE c.lead_id = leads.id AND c.status = 'enrolled') THEN 1 ELSE 0 END) AS enrolments"
    " FROM leads GROUP BY referrer_code"
)


def _referrer(row: Row) -> Referrer:
    return Referrer(str(row["code"]), str(row["name"]), as_datetime(row["created_at"]))


async def get_referrer(tx: Transaction, code: str) -> Referrer | None:
    """A registered code, if it is one."""
    row = await tx.fetch_one(
        "SELECT code, name, created_at FROM referrers WHERE code = :code", {"code": code}
    )
    return _referrer(row) if row else None


async def referrer_stats(tx: Transaction) -> list[ReferrerStats]:
    """Every code with its counts: registered ones by name, then unregistered ones by code,
    then (if any) what came without a code."""
    registered = {
        row["code"]: _referrer(row)
        for row in await tx.fetch("SELECT code, name, created_at FROM referrers")
    }
    counts: dict[str | None, dict[str, int]] = {code: {} for code in registered}

    def add(code: str | None, **numbers: int) -> None:
        if code is not None and code not in registered:
            code = UNKNOWN_REFERRER
        row = counts.setdefault(code, {})
        for name, number in numbers.items():
            row[name] = row.get(name, 0) + number

    for row in await tx.fetch(_CONVERSATIONS):
        add(
            row["code"],
            conversations=int(row["conversations"]),
            completions=int(row["completions"] or 0),
        )
    for row in await tx.fetch(_LEADS):
        add(row["code"], leads=int(row["leads"]), enrolments=int(row["enrolments"] or 0))
    stats = [
        ReferrerStats(code, registered.get(code) if code is not None else None, **numbers)
        for code, numbers in counts.items()
    ]

    def order(item: ReferrerStats) -> tuple[int, str]:
        if item.referrer is not None:
            return (0, item.referrer.name.casefold() + "\0" + (item.code or ""))
        return (1, item.code) if item.code is not None else (2, "")

    return sorted(stats, key=order)
