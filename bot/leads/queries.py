"""Finding leads for the admin view: filters, search, pages, and who may see which."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from bot.clock import PARIS
from bot.leads.payload import LeadRecord
from bot.leads.search_key import search_key
from bot.leads.store import read_selected, select_leads
from bot.storage.database import Transaction
from bot.storage.models import Lead

PAGE_SIZE = 25
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

    def condition(self) -> ColumnElement[bool]:
        """The leads in scope, as a WHERE condition."""
        if self.sites is not None:
            return or_(_among(Lead.site, self.sites), Lead.site.is_(None))
        if self.referrers is not None:
            return _among(Lead.referrer_code, self.referrers)
        return true()

    def allows(self, lead: LeadRecord) -> bool:
        if self.sites is not None:
            return lead.site is None or lead.site in self.sites
        if self.referrers is not None:
            return lead.referrer_code in self.referrers
        return True


def _among(
    column: InstrumentedAttribute[str | None], values: tuple[str, ...]
) -> ColumnElement[bool]:
    # An account with no site or referrer sees none: plainly false, not an empty IN list.
    return column.in_(values) if values else false()


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

    def conditions(self, scope: Scope) -> list[ColumnElement[bool]]:
        """The WHERE conditions of these filters within ``scope``."""
        conditions = [scope.condition()]
        if self.status:
            conditions.append(Lead.status == self.status)
        if self.site:
            conditions.append(Lead.site == self.site)
        if self.no_site:
            conditions.append(Lead.site.is_(None))
        if self.programme:
            conditions.append(Lead.programmes.like(f"%,{self.programme},%"))
        if self.referrer:
            conditions.append(Lead.referrer_code == self.referrer)
        # A bound beyond the times a datetime holds (year 1, 9999) excludes no lead.
        start = _paris_midnight(self.date_from) if self.date_from else None
        if start is not None:
            conditions.append(Lead.created_at >= start)
        end = _paris_midnight(self.date_to, days_after=1) if self.date_to else None
        if end is not None:
            conditions.append(Lead.created_at < end)
        if self.human:
            conditions.append(Lead.human_requested.is_(True))
        if self.query:
            conditions.append(_search(self.query))
        return conditions


def _paris_midnight(day: date, *, days_after: int = 0) -> datetime | None:
    """The start of a day as counsellors type it (a day in France), in UTC; None when it
    is beyond what a datetime holds."""
    try:
        start = datetime.combine(day + timedelta(days=days_after), time.min, tzinfo=PARIS)
        return start.astimezone(UTC)
    except OverflowError:
        return None


def _search(query: str) -> ColumnElement[bool]:
    """A first name (any case, any accent) or a phone number as people type it (06 12…,
    +33 6 12…)."""
    digits = _DIGITS.sub("", query)
    name = Lead.first_name_key.like(f"%{_like_escaped(search_key(query.strip()))}%", escape="!")
    if len(digits) >= 4:
        # Numbers are stored +33612345678: compare without the leading 0 or 33.
        if digits.startswith("33") and len(digits) > 9:
            digits = digits[2:]
        return or_(name, Lead.phone.like(f"%{digits.lstrip('0')}%"))
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
    conditions = filters.conditions(scope)
    total = await tx.scalar(select(func.count()).select_from(Lead).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    chosen = select_leads(*conditions).limit(page_size).offset((page - 1) * page_size)
    return LeadPage(await read_selected(tx, chosen), total, page, pages)


async def all_matching(tx: Transaction, filters: LeadFilters, scope: Scope) -> list[LeadRecord]:
    """Every lead of a filter, newest first (the CSV export)."""
    return await read_selected(tx, select_leads(*filters.conditions(scope)))
