"""Finding leads for the admin view: filters, search, pages, and who may see which."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false, func, or_, select, true, tuple_
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import Tuple

from bot.clock import PARIS
from bot.leads.payload import LeadRecord
from bot.leads.prefix import starts_with
from bot.leads.search_key import MAX_KEY_LENGTH, search_key
from bot.leads.store import LeadSelect, read_selected, select_leads
from bot.storage.database import Transaction
from bot.storage.models import Lead
from bot.storage.row_by_row import row_by_row

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
        """The leads in scope, as a WHERE condition.

        The site is tested row by row on SQLite (bot/leads/row_by_row.py): a site and the
        leads with none are most of the leads, read faster from the (created_at, id) index
        for a page, and counted as fast from the site's index scanned whole.
        """
        if self.sites is not None:
            site = row_by_row(Lead.site)
            return or_(_among(site, self.sites), site.is_(None))
        if self.referrers is not None:
            return _among(Lead.referrer_code, self.referrers)
        return true()

    def allows(self, lead: LeadRecord) -> bool:
        if self.sites is not None:
            return lead.site is None or lead.site in self.sites
        if self.referrers is not None:
            return lead.referrer_code in self.referrers
        return True


def _among(column: Any, values: tuple[str, ...]) -> ColumnElement[bool]:
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

    def conditions(self, scope: Scope, *, ordered: bool = False) -> list[ColumnElement[bool]]:
        """The WHERE conditions of these filters within ``scope``; ``ordered``: of a query
        read in the list's order, whose status SQLite then tests row by row (its index,
        counting quickly, would make a page sort all the leads of a status)."""
        conditions = [scope.condition()]
        site = row_by_row(Lead.site)
        if self.status:
            status = row_by_row(Lead.status) if ordered else Lead.status
            conditions.append(status == self.status)
        if self.site:
            conditions.append(site == self.site)
        if self.no_site:
            conditions.append(site.is_(None))
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
    +33 6 12…, 0033…), from its start: what counsellors type, and what an index finds."""
    name = starts_with(Lead.first_name_key, search_key(query.strip())[:MAX_KEY_LENGTH])
    phones = phone_prefixes(query)
    return or_(name, *(starts_with(Lead.phone, phone) for phone in phones)) if phones else name


def phone_prefixes(typed: str) -> list[str]:
    """The starts of stored numbers (+33612345678) a typed one may be: none under 4 digits.

    ``06 12`` and ``+33 6 12`` are French (+33612), ``0044 7911`` international (+447911);
    ``6 12 34`` may be a French number without its 0 or one from abroad without its +.
    """
    digits = _DIGITS.sub("", typed)
    if len(digits) < 4:
        return []
    if typed.lstrip().startswith("+"):
        return ["+" + digits]
    if digits.startswith("00"):
        return ["+" + digits[2:]]
    if digits.startswith("0"):
        return ["+33" + digits[1:]]
    return ["+33" + digits, "+" + digits]


@dataclass(frozen=True)
class Cursor:
    """Where a page of the list starts or ends: a lead's creation time and id.

    In the address as ``<microseconds since 1970>.<id>``; the order it stands for is the
    list's, newest first (created_at DESC, id DESC), which ties are broken by.
    """

    created_at: datetime
    lead_id: str

    def token(self) -> str:
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.lead_id}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        """The cursor of a token; None for anything else (a mistyped address is no error)."""
        found = _CURSOR.fullmatch(token or "")
        if found is None:
            return None
        try:
            created_at = _EPOCH + timedelta(microseconds=int(found[1]))
        except OverflowError:
            return None
        return cls(created_at, found[2])

    @classmethod
    def of(cls, lead: LeadRecord) -> Cursor:
        return cls(lead.created_at, lead.id)

    def older(self) -> ColumnElement[bool]:
        """The leads after this one in the list: older, or as old with a smaller id."""
        return tuple_(Lead.created_at, Lead.id).operate(operators.lt, self._pair())

    def newer(self) -> ColumnElement[bool]:
        """The leads before this one in the list."""
        return tuple_(Lead.created_at, Lead.id).operate(operators.gt, self._pair())

    def _pair(self) -> Tuple:
        # One range of a (created_at, id) index on both databases, wherever the cursor is.
        return tuple_(
            bindparam(None, self.created_at, type_=Lead.created_at.type),
            bindparam(None, self.lead_id, type_=Lead.id.type),
        )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Lead ids are ours (32 hexadecimal digits) or a test's; 17 digits of microseconds reach
# beyond the year 9999 (an overflow, refused above).
_CURSOR = re.compile(r"(-?\d{1,17})\.([A-Za-z0-9_-]{1,32})")
_NEWEST_FIRST = (Lead.created_at.desc(), Lead.id.desc())
_OLDEST_FIRST = (Lead.created_at, Lead.id)


@dataclass(frozen=True)
class LeadPage:
    """One page of the list, newest first, and where the pages beside it start: ``newer``
    and ``older`` are None when there is nothing on that side."""

    leads: list[LeadRecord]
    total: int
    newer: Cursor | None
    older: Cursor | None


async def count_leads(tx: Transaction, filters: LeadFilters, scope: Scope) -> int:
    """How many leads a filter holds within a scope (one COUNT, on the filters' indexes)."""
    conditions = filters.conditions(scope)
    return await tx.scalar(select(func.count()).select_from(Lead).where(*conditions)) or 0


async def leads_older_than(
    tx: Transaction,
    filters: LeadFilters,
    scope: Scope,
    cursor: Cursor | None,
    *,
    limit: int,
    with_history: bool = True,
) -> list[LeadRecord]:
    """Up to ``limit`` leads of a filter, newest first, from just after ``cursor`` (from the
    newest when None): one range of the (created_at, id) index, wherever the cursor is."""
    conditions = filters.conditions(scope, ordered=True)
    if cursor is not None:
        conditions.append(cursor.older())
    statement = _ordered(conditions, _NEWEST_FIRST).limit(limit)
    return await read_selected(tx, statement, with_history=with_history)


async def search_leads(
    tx: Transaction,
    filters: LeadFilters,
    scope: Scope,
    *,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
    page_size: int = PAGE_SIZE,
) -> LeadPage:
    """One page of leads, newest first: the first, the one after ``older_than`` (a page's last
    lead), or the one before ``newer_than`` (a page's first lead).

    A cursor only says where to start: the filters and the scope apply as on the first page,
    so a made-up one shows nothing the viewer may not see anyway.
    """
    total = await count_leads(tx, filters, scope)
    conditions = filters.conditions(scope, ordered=True)
    if newer_than is not None and older_than is None:
        nearest = _ordered([*conditions, newer_than.newer()], _OLDEST_FIRST)
        found = await read_selected(tx, nearest.limit(page_size + 1))
        if len(found) > page_size:
            leads = found[:page_size][::-1]
            return LeadPage(leads, total, Cursor.of(leads[0]), await _older(tx, conditions, leads))
        # Back at the first page: shown whole (leads may have come since).
    found = await leads_older_than(tx, filters, scope, older_than, limit=page_size + 1)
    leads = found[:page_size]
    older = Cursor.of(leads[-1]) if len(found) > page_size else None
    newer = None
    if older_than is not None and not leads:
        # Past the end (the leads after the cursor were erased since): the way back stays.
        newer = older_than
    elif older_than is not None and await _newer_exists(tx, conditions, leads[0]):
        newer = Cursor.of(leads[0])
    return LeadPage(leads, total, newer, older)


async def _older(
    tx: Transaction, conditions: list[ColumnElement[bool]], leads: list[LeadRecord]
) -> Cursor | None:
    last = Cursor.of(leads[-1])
    older = select(Lead.id).where(*conditions, last.older()).limit(1)
    return last if await tx.scalar(older) is not None else None


async def _newer_exists(
    tx: Transaction, conditions: list[ColumnElement[bool]], lead: LeadRecord
) -> bool:
    newer = select(Lead.id).where(*conditions, Cursor.of(lead).newer()).limit(1)
    return await tx.scalar(newer) is not None


def _ordered(conditions: list[ColumnElement[bool]], order: tuple[Any, ...]) -> LeadSelect:
    # Both columns the same way, so that one (created_at, id) index serves either direction.
    return select_leads(*conditions).order_by(None).order_by(*order)
