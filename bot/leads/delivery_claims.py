"""The delivery worker's side of lead deliveries (deliveries.py): claims with a lease, and
what each try did.

Any number of workers may share a database. A worker claims due deliveries with a lease
(on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so two workers never claim the same row),
then posts them with no lock held (webhook/handoff/worker.py). A worker killed during a try
leaves its lease to expire: the delivery is tried again, with the same ``webhook-id``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from bot.storage.database import Transaction
from bot.storage.models import WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds the lease of, at its ``attempts``-th try."""

    id: str
    endpoint_id: str
    body: str
    attempts: int


@dataclass(frozen=True)
class Endpoint:
    """Where a delivery goes, and the keys that sign it (two during a rotation)."""

    id: str
    url: str
    secrets: list[str]


async def claim_due(
    tx: Transaction, *, now: datetime, limit: int, lease_until: datetime
) -> list[Claimed]:
    """Take the lease of up to ``limit`` deliveries due now, oldest due first; each claim
    counts a try."""
    due = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.failed_at.is_(None),
            WebhookDelivery.body.is_not(None),
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            WebhookEndpoint.disabled_at.is_(None),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        # Left out on SQLite, whose writers take turns anyway.
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    rows = await tx.all(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(due))
        .values(lease_until=lease_until, attempts=WebhookDelivery.attempts + 1)
        .returning(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.body,
            WebhookDelivery.attempts,
        )
    )
    # Every body is there (the claim wants one, and its row locks hold an erasure off): the
    # test is for the type.
    return sorted(
        (
            Claimed(id_, endpoint, body, attempts)
            for id_, endpoint, body, attempts in rows
            if body is not None
        ),
        key=lambda claimed: claimed.id,
    )


async def endpoints_of(
    tx: Transaction, endpoint_ids: Iterable[str], *, now: datetime
) -> dict[str, Endpoint]:
    """The endpoints of claimed deliveries, by id (one removed meanwhile is absent)."""
    rows = await tx.all(
        select(
            WebhookEndpoint.id,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookEndpoint.previous_secret,
            WebhookEndpoint.previous_secret_until,
        ).where(WebhookEndpoint.id.in_(set(endpoint_ids)))
    )
    found = {}
    for endpoint_id, url, secret, previous, until in rows:
        keys = [secret]
        if previous and until is not None and until > now:
            keys.append(previous)
        found[endpoint_id] = Endpoint(endpoint_id, url, keys)
    return found


async def record_try(tx: Transaction, claimed: Claimed, values: dict[str, Any]) -> None:
    """What a try changed (``values``: delivery columns), the lease given back; only by
    the worker of this try (another may have taken the delivery over since)."""
    await tx.run(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claimed.id, WebhookDelivery.attempts == claimed.attempts)
        .values(lease_until=None, **values)
    )


async def disable_gone(tx: Transaction, endpoint_id: str, *, reason: str, now: datetime) -> None:
    """Stop sending anything to an endpoint whose receiver said it is gone for good."""
    await tx.run(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason)
    )
