"""Leads in the database: recorded from a finished conversation, followed up, erased.

Everything here runs inside the caller's transaction, so that a lead and the deliveries it
causes are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute

from bot import funnel_stages
from bot.clock import new_id
from bot.leads.payload import ASSISTANT, STATUSES, LeadRecord, StatusChange
from bot.leads.search_key import MAX_KEY_LENGTH, search_key
from bot.storage.database import Transaction
from bot.storage.models import Lead, LeadStatusChange
from flows.catalogue import Catalogue, default_catalogue
from flows.i18n import Language
from flows.rules import orient
from flows.state import ConversationState

# Counsellors read the reasons: the lead keeps them in French, whatever the person spoke.
COUNSELLOR_LANGUAGE: Language = "fr"
CONTACT_FIELDS = ("first_name", "phone", "email", "contact_preference", "site")
# What a LeadRecord is read from, in the order _record unpacks it (16 columns: more than
# select() types, so rows are tuples of Any until _record names them).
_LEAD_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Lead.id,
    Lead.created_at,
    Lead.updated_at,
    Lead.channel,
    Lead.referrer_code,
    Lead.language,
    Lead.site,
    Lead.first_name,
    Lead.phone,
    Lead.email,
    Lead.contact_preference,
    Lead.human_requested,
    Lead.profile,
    Lead.orientation,
    Lead.status,
    Lead.held_at,
)
_NEWEST_FIRST = (Lead.created_at.desc(), Lead.id)
LeadSelect = Select[*tuple[Any, ...]]


# A lead in one of these is closed: the counsellors are done with it, and retention counts
# from then (see bot/retention.py).
CLOSING_STATUSES = frozenset({"enrolled", "not_eligible", "unreachable", "withdrawn"})


# Lead ids per IN list when reading histories (well under both databases' parameter limits).
_CHUNK = 500


class UnknownLead(LookupError):
    """No lead has this id (it may have been erased)."""


class UnknownStatus(ValueError):
    """A status outside STATUSES."""


def lead_values(state: ConversationState, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The columns a conversation gives its lead: contact, profile, orientation."""
    profile = state.profile()
    orientation = orient(
        profile,
        language=COUNSELLOR_LANGUAGE,
        catalogue=catalogue,
        unknown=state.unknown_criteria(),
    )
    values = {name: state.answers.get(name) for name in CONTACT_FIELDS}
    fitting = [p.id for p in orientation.programmes if p.fit != "no"]
    first_name = values["first_name"]
    return values | {
        "first_name_key": (
            search_key(first_name)[:MAX_KEY_LENGTH] if isinstance(first_name, str) else None
        ),
        "programmes": "," + "".join(f"{p}," for p in fitting),
        "language": state.language,
        "human_requested": state.human_requested,
        "profile": profile.model_dump(mode="json"),
        "orientation": orientation.model_dump(mode="json"),
    }


async def record_from_conversation(
    tx: Transaction,
    *,
    conversation_id: str,
    channel: str,
    referrer_code: str | None,
    state: ConversationState,
    now: datetime,
    hold: Callable[[], bool] | None = None,
) -> tuple[LeadRecord, bool]:
    """Create the conversation's lead, or bring it up to date: (lead, created).

    Finishing again (a new summary, or ``/conseiller`` after the end) is a new request from
    the person: the lead is updated even if no answer changed. ``hold``: asked only when a
    new lead is made, whether it is kept for review (see release_lead).
    """
    values = lead_values(state) | {"referrer_code": referrer_code, "updated_at": now}
    existing = await tx.scalar(select(Lead.id).where(Lead.conversation_id == conversation_id))
    if existing is None:
        lead_id = new_id()
        await tx.run(
            insert(Lead).values(
                id=lead_id,
                conversation_id=conversation_id,
                created_at=now,
                channel=channel,
                status="new",
                held_at=now if hold is not None and hold() else None,
                **values,
            )
        )
        await _add_change(tx, lead_id, None, "new", ASSISTANT, now)
        await funnel_stages.refresh_conversations(tx, [conversation_id])
        return await read_lead(tx, lead_id), True
    if values["site"] is None:
        # A site a counsellor chose stays when the person asks again without a postal code.
        del values["site"]
    await tx.run(update(Lead).where(Lead.id == existing).values(**values))
    return await read_lead(tx, existing), False


async def release_lead(tx: Transaction, lead_id: str) -> LeadRecord | None:
    """Take a lead out of review; None if it was not held."""
    released = await tx.run(
        update(Lead).where(Lead.id == lead_id, Lead.held_at.is_not(None)).values(held_at=None)
    )
    if not released:
        if await tx.scalar(select(Lead.id).where(Lead.id == lead_id)) is None:
            raise UnknownLead(f"no lead {lead_id!r}")
        return None
    return await read_lead(tx, lead_id)


async def set_status(
    tx: Transaction, lead_id: str, status: str, *, changed_by: str, now: datetime
) -> LeadRecord | None:
    """Change a lead's status, with its history; None if it had this status already."""
    if status not in STATUSES:
        raise UnknownStatus(f"unknown status {status!r}: expected one of {', '.join(STATUSES)}")
    await funnel_stages.lock_conversation_of(tx, lead_id)
    previous = await tx.scalar(select(Lead.status).where(Lead.id == lead_id))
    if previous is None:
        raise UnknownLead(f"no lead {lead_id!r}")
    if previous == status:
        return None
    closed_at = now if status in CLOSING_STATUSES else None
    await tx.run(
        update(Lead)
        .where(Lead.id == lead_id)
        .values(status=status, updated_at=now, closed_at=closed_at)
    )
    await _add_change(tx, lead_id, previous, status, changed_by, now)
    await funnel_stages.refresh_lead(tx, lead_id)
    return await read_lead(tx, lead_id)


async def set_site(tx: Transaction, lead_id: str, site: str, *, now: datetime) -> LeadRecord | None:
    """Set the site that follows a lead (a counsellor's choice); None if it had it already."""
    row = await tx.first(select(Lead.site).where(Lead.id == lead_id))
    if row is None:
        raise UnknownLead(f"no lead {lead_id!r}")
    if row[0] == site:
        return None
    await tx.run(update(Lead).where(Lead.id == lead_id).values(site=site, updated_at=now))
    return await read_lead(tx, lead_id)


async def delete_lead(tx: Transaction, lead_id: str) -> None:
    """Erase a lead; its status history and notes go with it (ON DELETE CASCADE)."""
    await funnel_stages.leads_erased(tx, [lead_id])
    await tx.run(delete(Lead).where(Lead.id == lead_id))


async def _add_change(
    tx: Transaction, lead_id: str, previous: str | None, status: str, by: str, now: datetime
) -> None:
    await tx.run(
        insert(LeadStatusChange).values(
            lead_id=lead_id, at=now, previous=previous, status=status, changed_by=by
        )
    )


def select_leads(*conditions: ColumnElement[bool]) -> LeadSelect:
    """The leads meeting ``conditions``, newest first, as read_selected reads them."""
    return select(*_LEAD_COLUMNS).where(*conditions).order_by(*_NEWEST_FIRST)


async def read_selected(
    tx: Transaction, statement: LeadSelect, *, with_history: bool = True
) -> list[LeadRecord]:
    """The leads of a select_leads statement (paged or not), in its order, with their
    histories: one query for the leads and one per 500 of them for the histories, not two a
    lead. ``with_history=False``: without them (an export, which shows none)."""
    rows = await tx.all(statement)
    histories = await _histories(tx, [row[0] for row in rows]) if with_history else {}
    return [_record(row, histories.get(row[0], ())) for row in rows]


async def read_lead(tx: Transaction, lead_id: str) -> LeadRecord:
    found = await read_selected(tx, select_leads(Lead.id == lead_id))
    if not found:
        raise UnknownLead(f"no lead {lead_id!r}")
    return found[0]


async def read_leads(tx: Transaction, lead_ids: Sequence[str]) -> list[LeadRecord]:
    """Several leads in the order given (unknown ids left out), with their histories."""
    found: dict[str, LeadRecord] = {}
    for start in range(0, len(lead_ids), _CHUNK):
        chunk = lead_ids[start : start + _CHUNK]
        for lead in await read_selected(tx, select_leads(Lead.id.in_(chunk))):
            found[lead.id] = lead
    return [found[lead_id] for lead_id in lead_ids if lead_id in found]


async def lead_of_conversation(tx: Transaction, conversation_id: str) -> LeadRecord | None:
    found = await read_selected(tx, select_leads(Lead.conversation_id == conversation_id))
    return found[0] if found else None


async def list_leads(tx: Transaction, *, limit: int = 50) -> list[LeadRecord]:
    """The newest leads first (the admin view filters; this is for the command line)."""
    return await read_selected(tx, select_leads().limit(limit))


async def _histories(
    tx: Transaction, lead_ids: Sequence[str]
) -> dict[str, tuple[StatusChange, ...]]:
    """The status changes of leads, oldest first, by lead."""
    by_lead: dict[str, list[StatusChange]] = {}
    for start in range(0, len(lead_ids), _CHUNK):
        rows = await tx.all(
            select(
                LeadStatusChange.lead_id,
                LeadStatusChange.at,
                LeadStatusChange.previous,
                LeadStatusChange.status,
                LeadStatusChange.changed_by,
            )
            .where(LeadStatusChange.lead_id.in_(lead_ids[start : start + _CHUNK]))
            .order_by(LeadStatusChange.id)
        )
        for lead_id, at, previous, status, changed_by in rows:
            by_lead.setdefault(lead_id, []).append(StatusChange(at, previous, status, changed_by))
    return {lead_id: tuple(changes) for lead_id, changes in by_lead.items()}


def _record(row: Sequence[Any], history: tuple[StatusChange, ...]) -> LeadRecord:
    (
        lead_id,
        created_at,
        updated_at,
        channel,
        referrer_code,
        language,
        site,
        first_name,
        phone,
        email,
        contact_preference,
        human_requested,
        profile,
        orientation,
        status,
        held_at,
    ) = row
    return LeadRecord(
        id=lead_id,
        created_at=created_at,
        updated_at=updated_at,
        channel=channel,
        referrer_code=referrer_code,
        language=language,
        site=site,
        site_name=_site_name(site),
        first_name=first_name,
        phone=phone,
        email=email,
        contact_preference=contact_preference,
        human_requested=human_requested,
        profile=profile,
        orientation=orientation,
        status=status,
        held_at=held_at,
        history=history,
    )


def _site_name(site_id: str | None) -> str | None:
    if site_id is None:
        return None
    try:
        return default_catalogue().site(site_id).name
    except KeyError:
        return None  # a site that has left the catalogue since
