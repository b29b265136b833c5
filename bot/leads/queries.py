"""Finding leads for the admin view: filters, search, pages, and who may see which."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.leads.payload import LeadRecord
from bot.leads.search_key import search_key
from bot.leads.store import read_leads
from bot.storage.database import Transaction

PAGE_SIZE = 25
# Dates typed by counsellors are days in France.
PARIS = ZoneInfo("Europe/Paris")
_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class Scope:
    """Which leads an account may see: all, those of some sites, or of some referral codes.

    A site scope also holds the leads with no site yet (someone who asked for a counsellor
    before giving a postal code): every counsellor sees that queue, so every lead reaches
    someone. A referrer scope does not: partners see their referrals only.
    """

    sites: tuple[str, ...] | None = None
    referrers: tuple[str, ...] | None = None

    def clause(self, params: dict[str, Any]) -> str:
        if self.sites is not None:
            return f"({_in_list('site', 'scope_site', self.sites, params)} OR site IS NULL)"
        if self.referrers is not None:
            return _in_list("referrer_code", "scope_referrer", self.referrers, params)
        return "1 = 1"

    def allows(self, lead: LeadRecord) -> bool:
        if self.sites is not None:
            return lead.site is None or lead.site in self.sites
        if self.referrers is not None:
            return lead.referrer_code in self.referrers
        return True


def _in_list(column: str, prefix: str, values: tuple[str, ...], params: dict[str, Any]) -> str:
    if not values:
        return "1 = 0"
    names = []
    for index, value in enumerate(values):
        params[f"{prefix}{index}"] = value
        names.append(f":{prefix}{index}")
    return f"{column} IN ({', '.join(names)})"


@dataclass(frozen=True)
class LeadFilters:
    status: str | None = None
    site: str | None = None
    # The "no site yet" queue (the site filter's "Sans site").
    no_site: bool = False
    programme: str | None = None
    referrer: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    human: bool = False
    query: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def where(self, scope: Scope, params: dict[str, Any]) -> str:
        parts = [scope.clause(params)]
        if self.status:
            parts.append("status = :status")
            params["status"] = self.status
        if self.site:
            parts.append("site = :site")
            params["site"] = self.site
        if self.no_site:
            parts.append("site IS NULL")
        if self.programme:
            parts.append("programmes LIKE :programme")
            params["programme"] = f"%,{self.programme},%"
        if self.referrer:
            parts.append("referrer_code = :referrer")
            params["referrer"] = self.referrer
        if self.date_from:
            parts.append("created_at >= :date_from")
            params["date_from"] = datetime.combine(self.date_from, time.min, tzinfo=PARIS)
        if self.date_to:
            parts.append("created_at < :date_to")
            next_day = self.date_to + timedelta(days=1)
            params["date_to"] = datetime.combine(next_day, time.min, tzinfo=PARIS)
        if self.human:
            parts.append("human_requested = :human")
            params["human"] = True
        if self.query:
            parts.append(_search(self.query, params))
        return " AND ".join(parts)


def _search(query: str, params: dict[str, Any]) -> str:
    """A first name (any case, any accent) or a phone number as people type it (06 12…,
    +33 6 12…)."""
    digits = _DIGITS.sub("", query)
    params["name"] = f"%{_like_escaped(search_key(query.strip()))}%"
    name = "first_name_key LIKE :name ESCAPE '!'"
    if len(digits) >= 4:
        # Numbers are stored +33612345678: compare without the leading 0 or 33.
        if digits.startswith("33") and len(digits) > 9:
            digits = digits[2:]
        params["phone"] = f"%{digits.lstrip('0')}%"
        return f"({name} OR phone LIKE :phone)"
    return name


def _like_escaped(text: str) -> str:
    """Text matched as typed: % and _ are characters here, not LIKE's wildcards."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


@dataclass(frozen=True)
class LeadPage:
    leads: list[LeadRecord]
    total: int
    page: int
    pages: int


async def search_leads(
    tx: Transaction,
    filters: LeadFilters,
    scope: Scope,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> LeadPage:
    """One page of leads, newest first."""
    params: dict[str, Any] = {}
    where = filters.where(scope, params)
    count = await tx.fetch_one(f"SELECT COUNT(*) AS n FROM leads WHERE {where}", params)  # noqa: S608
    total = int(count["n"]) if count else 0
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    rows = await tx.fetch(
        f"SELECT id FROM leads WHERE {where}"  # noqa: S608 (clauses built here, values bound)
        " ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset",
        params | {"limit": page_size, "offset": (page - 1) * page_size},
    )
    leads = await read_leads(tx, [row["id"] for row in rows])
    return LeadPage(leads, total, page, pages)


async def all_matching(tx: Transaction, filters: LeadFilters, scope: Scope) -> list[LeadRecord]:
    """Every lead of a filter, newest first (the CSV export)."""
    params: dict[str, Any] = {}
    where = filters.where(scope, params)
    rows = await tx.fetch(
        f"SELECT id FROM leads WHERE {where} ORDER BY created_at DESC, id",  # noqa: S608
        params,
    )
    return await read_leads(tx, [row["id"] for row in rows])
