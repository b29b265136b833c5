"""Queuing lead events for the endpoints that want them, in the lead's own transaction.

A delivery row per endpoint and event is the outbox: the worker (webhook/handoff) sends it
later, retries it, and marks it. Nothing is sent from inside a transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from bot.leads.payload import EventType, LeadRecord, deleted_data, event_body
from bot.storage.raw import Transaction

# An endpoint wants a lead when its site and referrer filters (if any) match. Disabled
# endpoints are queued for too: their deliveries wait, and leave when they are enabled again.
MATCHING_ENDPOINTS = (
    "SELECT id, referrer_code FROM webhook_endpoints"
    " WHERE (site IS NULL OR site = :site) AND (referrer_code IS NULL OR referrer_code = :referrer)"
)
INSERT_DELIVERY = (
    "INSERT INTO webhook_deliveries (id, endpoint_id, lead_id, event_type, body, created_at,"
    " next_attempt_at, attempts) VALUES (:id, :endpoint_id, :lead_id, :event_type, :body, :now,"
    " :now, 0)"
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
) -> int:
    """Queue lead.created or lead.updated for every matching endpoint; how many were queued."""
    endpoints = await tx.fetch(
        MATCHING_ENDPOINTS, {"site": lead.site, "referrer": lead.referrer_code}
    )
    full = event_body(event_type, now, lead.full(admin_url))
    follow_up = event_body(event_type, now, lead.follow_up())
    rows = [
        {
            "id": delivery_id(),
            "endpoint_id": endpoint["id"],
            "lead_id": lead.id,
            "event_type": event_type,
            # An endpoint that follows one referrer's people gets the follow-up view only.
            "body": follow_up if endpoint["referrer_code"] else full,
            "now": now,
        }
        for endpoint in endpoints
    ]
    await tx.execute_many(INSERT_DELIVERY, rows)
    return len(rows)


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
        }
        for endpoint in reached
    ]
    await tx.execute_many(INSERT_DELIVERY, rows)
    return len(rows)
