"""Leads in the database: recorded from a finished conversation, followed up, erased.

Everything here runs inside the caller's transaction, so that a lead and the deliveries it
causes are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.clock import new_id
from bot.leads.payload import ASSISTANT, STATUSES, LeadRecord, StatusChange
from bot.leads.search_key import MAX_KEY_LENGTH, search_key
from bot.storage.database import Row, Transaction
from bot.storage.values import as_datetime, as_json
from flows.catalogue import Catalogue, default_catalogue
from flows.i18n import Language
from flows.rules import orient
from flows.state import ConversationState

# Counsellors read the reasons: the lead keeps them in French, whatever the person spoke.
COUNSELLOR_LANGUAGE: Language = "fr"
CONTACT_FIELDS = ("first_name", "phone", "email", "contact_preference", "site")
COLUMNS = (
    "id, created_at, updated_at, channel, referrer_code, language, site, first_name, phone,"
    " email, contact_preference, human_requested, profile, orientation, status, held_at"
)


# A lead in one of these is closed: the counsellors are done with it, and retention counts
# from then (see bot/retention.py).
CLOSING_STATUSES = frozenset({"enrolled", "not_eligible", "unreachable", "withdrawn"})


# Ids per query when reading many leads (well under both databases' parameter limits).
_CHUNK = 500


class UnknownLead(LookupError):
    """No lead has this id (it may have been erased)."""


class UnknownStatus(ValueError):
    """A status outside STATUSES."""


def lead_values(state: ConversationState, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The columns a conversation gives its lead: contact, profile, orientation."""
    profile = state.profile()
    orientation = orient(profile, language=COUNSELLOR_LANGUAGE, catalogue=catalogue)
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
    values = lead_values(state) | {"referrer_code": referrer_code, "now": now}
    existing = await tx.fetch_one(
        "SELECT id FROM leads WHERE conversation_id = :conversation_id",
        {"conversation_id": conversation_id},
    )
    if existing is None:
        lead_id = new_id()
        await tx.write(
            "INSERT INTO leads (id, conversation_id, created_at, updated_at, channel,"
            " referrer_code, language, site, first_name, first_name_key, phone, email,"
            " contact_preference, human_requested, profile, orientation, programmes, status,"
            " held_at) VALUES (:id, :conversation_id, :now, :now, :channel, :referrer_code,"
            " :language, :site, :first_name, :first_name_key, :phone, :email,"
            " :contact_preference, :human_requested, :profile, :orientation, :programmes,"
            " 'new', :held_at)",
            values
            | {
                "id": lead_id,
                "conversation_id": conversation_id,
                "channel": channel,
                "held_at": now if hold is not None and hold() else None,
            },
        )
        await _add_change(tx, lead_id, None, "new", ASSISTANT, now)
        return await read_lead(tx, lead_id), True
    await tx.write(
        "UPDATE leads SET updated_at = :now, referrer_code = :referrer_code,"
        # A site a counsellor chose stays when the person asks again without a postal code.
        " language = :language, site = COALESCE(:site, site), first_name = :first_name,"
        " first_name_key = :first_name_key, phone = :phone,"
        " email = :email, contact_preference = :contact_preference,"
        " human_requested = :human_requested, profile = :profile, orientation = :orientation,"
        " programmes = :programmes WHERE id = :id",
        values | {"id": existing["id"]},
    )
    return await read_lead(tx, existing["id"]), False


async def release_lead(tx: Transaction, lead_id: str) -> LeadRecord | None:
    """Take a lead out of review; None if it was not held."""
    released = await tx.execute(
        "UPDATE leads SET held_at = NULL WHERE id = :id AND held_at IS NOT NULL", {"id": lead_id}
    )
    if not released:
        if await tx.fetch_one("SELECT id FROM leads WHERE id = :id", {"id": lead_id}) is None:
            raise UnknownLead(f"no lead {lead_id!r}")
        return None
    return await read_lead(tx, lead_id)


async def set_status(
    tx: Transaction, lead_id: str, status: str, *, changed_by: str, now: datetime
) -> LeadRecord | None:
    """Change a lead's status, with its history; None if it had this status already."""
    if status not in STATUSES:
        raise UnknownStatus(f"unknown status {status!r}: expected one of {', '.join(STATUSES)}")
    row = await tx.fetch_one("SELECT status FROM leads WHERE id = :id", {"id": lead_id})
    if row is None:
        raise UnknownLead(f"no lead {lead_id!r}")
    if row["status"] == status:
        return None
    await tx.write(
        "UPDATE leads SET status = :status, updated_at = :now, closed_at = :closed WHERE id = :id",
        {
            "status": status,
            "now": now,
            "id": lead_id,
            "closed": now if status in CLOSING_STATUSES else None,
        },
    )
    await _add_change(tx, lead_id, row["status"], status, changed_by, now)
    return await read_lead(tx, lead_id)


async def set_site(tx: Transaction, lead_id: str, site: str, *, now: datetime) -> LeadRecord | None:
    """Set the site that follows a lead (a counsellor's choice); None if it had it already."""
    row = await tx.fetch_one("SELECT site FROM leads WHERE id = :id", {"id": lead_id})
    if row is None:
        raise UnknownLead(f"no lead {lead_id!r}")
    if row["site"] == site:
        return None
    await tx.write(
        "UPDATE leads SET site = :site, updated_at = :now WHERE id = :id",
        {"site": site, "now": now, "id": lead_id},
    )
    return await read_lead(tx, lead_id)


async def _add_change(
    tx: Transaction, lead_id: str, previous: str | None, status: str, by: str, now: datetime
) -> None:
    await tx.write(
        "INSERT INTO lead_status_changes (lead_id, at, previous, status, changed_by)"
        " VALUES (:lead_id, :now, :previous, :status, :by)",
        {"lead_id": lead_id, "now": now, "previous": previous, "status": status, "by": by},
    )


async def read_lead(tx: Transaction, lead_id: str) -> LeadRecord:
    row = await tx.fetch_one("SELECT " + COLUMNS + " FROM leads WHERE id = :id", {"id": lead_id})
    if row is None:
        raise UnknownLead(f"no lead {lead_id!r}")
    changes = await tx.fetch(
        "SELECT at, previous, status, changed_by FROM lead_status_changes"
        " WHERE lead_id = :id ORDER BY id",
        {"id": lead_id},
    )
    return _record(row, changes)


async def read_leads(tx: Transaction, lead_ids: list[str]) -> list[LeadRecord]:
    """Several leads in the order given, with their histories: two queries a chunk, not two a
    lead (a CSV export may hold thousands)."""
    found: dict[str, LeadRecord] = {}
    for start in range(0, len(lead_ids), _CHUNK):
        chunk = lead_ids[start : start + _CHUNK]
        names = {f"id{n}": lead_id for n, lead_id in enumerate(chunk)}
        listed = ", ".join(f":{name}" for name in names)
        rows = await tx.fetch(f"SELECT {COLUMNS} FROM leads WHERE id IN ({listed})", names)
        changes = await tx.fetch(
            "SELECT lead_id, at, previous, status, changed_by FROM lead_status_changes"
            f" WHERE lead_id IN ({listed}) ORDER BY id",
            names,
        )
        by_lead: dict[str, list[Row]] = {}
        for change in changes:
            by_lead.setdefault(change["lead_id"], []).append(change)
        for row in rows:
            found[row["id"]] = _record(row, by_lead.get(row["id"], []))
    return [found[lead_id] for lead_id in lead_ids if lead_id in found]


async def lead_of_conversation(tx: Transaction, conversation_id: str) -> LeadRecord | None:
    row = await tx.fetch_one(
        "SELECT id FROM leads WHERE conversation_id = :id", {"id": conversation_id}
    )
    return await read_lead(tx, row["id"]) if row else None


async def list_leads(tx: Transaction, *, limit: int = 50) -> list[LeadRecord]:
    """The newest leads first (the admin view filters; this is for the command line)."""
    rows = await tx.fetch(
        "SELECT id FROM leads ORDER BY created_at DESC, id LIMIT :limit", {"limit": limit}
    )
    return await read_leads(tx, [row["id"] for row in rows])


def _record(row: Row, changes: list[Row]) -> LeadRecord:
    created_at, updated_at = as_datetime(row["created_at"]), as_datetime(row["updated_at"])
    assert created_at is not None
    assert updated_at is not None
    return LeadRecord(
        id=row["id"],
        created_at=created_at,
        updated_at=updated_at,
        channel=row["channel"],
        referrer_code=row["referrer_code"],
        language=row["language"],
        site=row["site"],
        site_name=_site_name(row["site"]),
        first_name=row["first_name"],
        phone=row["phone"],
        email=row["email"],
        contact_preference=row["contact_preference"],
        human_requested=bool(row["human_requested"]),
        profile=as_json(row["profile"]),
        orientation=as_json(row["orientation"]),
        status=row["status"],
        held_at=as_datetime(row["held_at"]),
        history=tuple(
            StatusChange(
                at=as_datetime(change["at"]) or created_at,
                previous=change["previous"],
                status=change["status"],
                changed_by=change["changed_by"],
            )
            for change in changes
        ),
    )


def _site_name(site_id: str | None) -> str | None:
    if site_id is None:
        return None
    try:
        return default_catalogue().site(site_id).name
    except KeyError:
        return None  # a site that has left the catalogue since
