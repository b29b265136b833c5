"""Queuing lead events for the endpoints that want them, in the lead's own transaction.

A delivery row per endpoint and event waits here: the worker (webhook/handoff) sends it
later, retries it, and marks it. Nothing is sent from inside a transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, delete, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from bot.leads.payload import EventType, LeadRecord, deleted_data, event_body
from bot.storage.database import Transaction
from bot.storage.models import WebhookDelivery, WebhookEndpoint

# A replay starts the count of tries again, but keeps the last answer: tried before.
_NEVER_TRIED = and_(
    WebhookDelivery.attempts == 0,
    WebhookDelivery.last_status.is_(None),
    WebhookDelivery.last_error.is_(None),
)
_NOT_DELETED = WebhookDelivery.event_type != "lead.deleted"


@dataclass(frozen=True)
class _Queued:
    """One of a lead's events already queued for an endpoint."""

    id: str
    endpoint_id: str
    event_type: EventType
    created_at: datetime
    attempts: int
    delivered_at: datetime | None
    failed_at: datetime | None

    @property
    def untried(self) -> bool:
        """Not yet taken by a worker (a claim counts an attempt), nor done with."""
        return not self.attempts and self.delivered_at is None and self.failed_at is None


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
    appointment: dict[str, Any] | None = None,
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
    # An endpoint wants a lead when its site and referrer filters (if any) match. Disabled
    # endpoints are queued for too: their deliveries wait, and leave when enabled again.
    endpoints = await tx.all(
        select(WebhookEndpoint.id, WebhookEndpoint.referrer_code).where(
            _unfiltered_or(WebhookEndpoint.site, lead.site),
            _unfiltered_or(WebhookEndpoint.referrer_code, lead.referrer_code),
        )
    )
    data = {"full": lead.full(admin_url), "follow_up": lead.follow_up()}
    if appointment is not None:
        # An appointment.* event: the lead as it stands, and the booking it is about. A
        # referrer is not told which messenger the person writes on, as for the lead itself.
        follow_up = {name: value for name, value in appointment.items() if name != "channel"}
        data["full"] = {**data["full"], "appointment": appointment}
        data["follow_up"] = {**data["follow_up"], "appointment": follow_up}
    earlier = (
        await _queued_for(tx, lead.id)
        if event_type == "lead.updated" and endpoints and coalesce_within is not None
        else []
    )
    rows = []
    for endpoint_id, referrer_code in endpoints:
        # An endpoint that follows one referrer's people gets the follow-up view only.
        view = data["follow_up" if referrer_code else "full"]
        mine = [queued for queued in earlier if queued.endpoint_id == endpoint_id]
        if await _refreshed_waiting(tx, mine, view, now=now):
            continue
        due = _next_update_due(mine, coalesce_within or timedelta(0), now=now)
        rows.append(_delivery(endpoint_id, lead.id, event_type, view, now=now, due=due))
    await _insert_deliveries(tx, rows)
    return len(rows)


def _unfiltered_or(
    column: InstrumentedAttribute[str | None], value: str | None
) -> ColumnElement[bool]:
    """The endpoint has no filter on this column, or the lead has its value."""
    if value is None:
        return column.is_(None)
    return or_(column.is_(None), column == value)


async def _queued_for(tx: Transaction, lead_id: str) -> list[_Queued]:
    """A lead's events queued so far (lead.deleted aside)."""
    rows = await tx.all(
        select(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.event_type,
            WebhookDelivery.created_at,
            WebhookDelivery.attempts,
            WebhookDelivery.delivered_at,
            WebhookDelivery.failed_at,
        ).where(WebhookDelivery.lead_id == lead_id, _NOT_DELETED)
    )
    # Their types were written here, from EventType.
    return [
        _Queued(delivery, endpoint, cast("EventType", event), created, attempts, sent, failed)
        for delivery, endpoint, event, created, attempts, sent, failed in rows
    ]


async def _refreshed_waiting(
    tx: Transaction, earlier: list[_Queued], view: dict[str, Any], *, now: datetime
) -> bool:
    """Give an untried event of this endpoint the newest data; whether there was one."""
    for queued in earlier:
        # A worker may have claimed it since it was read: then it is not refreshed.
        if queued.untried and await tx.run(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == queued.id,
                WebhookDelivery.attempts == 0,
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.failed_at.is_(None),
            )
            .values(body=event_body(queued.event_type, now, view))
        ):
            return True
    return False


def _next_update_due(earlier: list[_Queued], window: timedelta, *, now: datetime) -> datetime:
    """Now, or one window after the last lead.updated queued for this endpoint."""
    queued = [row.created_at for row in earlier if row.event_type == "lead.updated"]
    return max(now, max(queued) + window) if queued else now


def _delivery(
    endpoint_id: str,
    lead_id: str,
    event_type: EventType,
    data: dict[str, Any],
    *,
    now: datetime,
    due: datetime,
) -> dict[str, Any]:
    """A delivery row to insert, every column given (a multi-row insert fills no default)."""
    return {
        "id": delivery_id(),
        "endpoint_id": endpoint_id,
        "lead_id": lead_id,
        "event_type": event_type,
        "body": event_body(event_type, now, data),
        "created_at": now,
        "next_attempt_at": due,
        "attempts": 0,
    }


async def _insert_deliveries(tx: Transaction, rows: list[dict[str, Any]]) -> None:
    if rows:
        await tx.run(insert(WebhookDelivery).values(rows))


async def erase_lead_deliveries(tx: Transaction, lead_id: str, *, now: datetime) -> int:
    """On erasure: tell whoever may have the lead, and keep no copy of its data here.

    Endpoints that were sent something about the lead (even without an answer) get
    lead.deleted. Deliveries never tried are dropped; the others keep their row as a trace,
    without body, and stop being retried. The number of lead.deleted queued.
    """
    of_lead = WebhookDelivery.lead_id == lead_id
    reached = await tx.scalars(
        select(WebhookDelivery.endpoint_id).distinct().where(of_lead, ~_NEVER_TRIED, _NOT_DELETED)
    )
    await tx.run(delete(WebhookDelivery).where(of_lead, _NEVER_TRIED))
    await tx.run(
        update(WebhookDelivery)
        .where(of_lead, WebhookDelivery.delivered_at.is_(None), WebhookDelivery.failed_at.is_(None))
        .values(failed_at=now, last_error="lead erased before delivery")
    )
    await tx.run(update(WebhookDelivery).where(of_lead).values(body=None))
    data = deleted_data(lead_id, now)
    rows = [
        _delivery(endpoint, lead_id, "lead.deleted", data, now=now, due=now) for endpoint in reached
    ]
    await _insert_deliveries(tx, rows)
    return len(rows)
