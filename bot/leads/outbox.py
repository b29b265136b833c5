"""Queuing lead events for the endpoints that want them, in the lead's own transaction.

A delivery row per endpoint and event is the outbox: the worker (webhook/handoff) sends it
later, retries it, and marks it. Nothing is sent from inside a transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from bot.leads.payload import EventType, LeadRecord, deleted_data, event_body
from bot.storage.database import Transaction
from bot.storage.values import as_datetime

# An endpoint wants a lead when its site and referrer filters (if any) match. Disabled
# endpoints are queued for too: their deliveries wait, and leave when they are enabled again.
MATCHING_ENDPOINTS = (
    "SELECT id, referrer_code FROM webhook_endpoints"
    " WHERE (site IS NULL OR site = :site) AND (referrer_code IS NULL OR referrer_code = :referrer)"
)
INSERT_DELIVERY = (
    "INSERT INTO webhook_deliveries (id, endpoint_id, lead_id, event_type, body, created_at,"
    " next_attempt_at, attempts) VALUES (:id, :endpoint_id, :lead_id, :event_type, :body, :now,"
    " :due, 0)"
)
# A lead's events not yet taken by a worker (a claim counts an attempt) and those queued lately.
EARLIER_EVENTS = (
    "SELECT id, endpoint_id, event_type, created_at, attempts, delivered_at, failed_at"
    " FROM webhook_deliveries WHERE lead_id = :lead_id AND event_type <> 'lead.deleted'"
)
REFRESH_WAITING = (
    "UPDATE webhook_deliveries SET body = :body WHERE id = :id AND attempts = 0"
    " AND delivered_at IS NULL AND failed_at IS NULL"
)

# A replay starts the count of tries again, but keeps the last answer: tried before.
_NEVER_TRIED = "attempts = 0 AND last_status IS NULL AND last_error IS NULL"


def delivery_id() -> str:
    """The webhook-id of a delivery: unique, opaque, the same on every try."""
    return "msg_" + uuid.uuid4().hex


async def queue_lead_event(
    tx: Transaction,
    lead: LeadRecord,
    event_type: EventType,
    *,
    now: datetime,
    admin_url: str | None,
    coalesce_within: timedelta | None = None,
) -> int:
    """Queue lead.created or lead.updated for every matching endpoint; how many were queued.

    A held lead (bot/leads/handoff.py) goes nowhere until it is released. With
    ``coalesce_within`` (a person's new request), a lead.updated joins an event of the lead
    still waiting untried for the same endpoint (which then carries the newest data), and
    comes at most once per that window after the last one: a person finishing again and
    again is one update to the receiver, not hundreds. A counsellor's change is always sent.
    """
    if lead.held_at is not None:
        return 0
    endpoints = await tx.fetch(
        MATCHING_ENDPOINTS, {"site": lead.site, "referrer": lead.referrer_code}
    )
    data = {"full": lead.full(admin_url), "follow_up": lead.follow_up()}
    earlier = (
        await tx.fetch(EARLIER_EVENTS, {"lead_id": lead.id})
        if event_type == "lead.updated" and endpoints and coalesce_within is not None
        else []
    )
    rows = []
    for endpoint in endpoints:
        # An endpoint that follows one referrer's people gets the follow-up view only.
        view = data["follow_up" if endpoint["referrer_code"] else "full"]
        mine = [row for row in earlier if row["endpoint_id"] == endpoint["id"]]
        if await _refreshed_waiting(tx, mine, view, now=now):
            continue
        rows.append(
            {
                "id": delivery_id(),
                "endpoint_id": endpoint["id"],
                "lead_id": lead.id,
                "event_type": event_type,
                "body": event_body(event_type, now, view),
                "now": now,
                "due": _next_update_due(mine, coalesce_within or timedelta(0), now=now),
            }
        )
    await tx.execute_many(INSERT_DELIVERY, rows)
    return len(rows)


async def _refreshed_waiting(
    tx: Transaction, earlier: list[dict[str, Any]], view: dict[str, Any], *, now: datetime
) -> bool:
    """Give an untried event of this endpoint the newest data; whether there was one."""
    for row in earlier:
        untried = not row["attempts"] and not row["delivered_at"] and not row["failed_at"]
        # A worker may have claimed it since it was read: then it is not refreshed.
        if untried and await tx.execute(
            REFRESH_WAITING, {"id": row["id"], "body": event_body(row["event_type"], now, view)}
        ):
            return True
    return False


def _next_update_due(
    earlier: list[dict[str, Any]], window: timedelta, *, now: datetime
) -> datetime:
    """Now, or one window after the last lead.updated queued for this endpoint."""
    queued = [
        as_datetime(row["created_at"]) for row in earlier if row["event_type"] == "lead.updated"
    ]
    last = max((at for at in queued if at is not None), default=None)
    return max(now, last + window) if last is not None else now


async def erase_lead_deliveries(tx: Transaction, lead_id: str, *, now: datetime) -> int:
    """On erasure: tell whoever may have the lead, and keep no copy of its data here.

    Endpoints that were sent something about the lead (even without an answer) get
    lead.deleted. Deliveries never tried are dropped; the others keep their row as a trace,
    without body, and stop being retried. The number of lead.deleted queued.
    """
    reached = await tx.fetch(
        "SELECT DISTINCT endpoint_id FROM webhook_deliveries"
        " WHERE lead_id = :lead_id AND NOT (" + _NEVER_TRIED + ") AND event_type <> 'lead.deleted'",
        {"lead_id": lead_id},
    )
    await tx.write(
        "DELETE FROM webhook_deliveries WHERE lead_id = :lead_id AND " + _NEVER_TRIED,
        {"lead_id": lead_id},
    )
    await tx.write(
        "UPDATE webhook_deliveries SET body = NULL, failed_at = CASE WHEN delivered_at IS NULL"
        " AND failed_at IS NULL THEN :now ELSE failed_at END, last_error = CASE WHEN"
        " delivered_at IS NULL AND failed_at IS NULL THEN 'lead erased before delivery'"
        " ELSE last_error END WHERE lead_id = :lead_id",
        {"lead_id": lead_id, "now": now},
    )
    body = event_body("lead.deleted", now, deleted_data(lead_id, now))
    rows = [
        {
            "id": delivery_id(),
            "endpoint_id": endpoint["endpoint_id"],
            "lead_id": lead_id,
            "event_type": "lead.deleted",
            "body": body,
            "now": now,
            "due": now,
        }
        for endpoint in reached
    ]
    await tx.execute_many(INSERT_DELIVERY, rows)
    return len(rows)
