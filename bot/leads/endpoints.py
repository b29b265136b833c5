"""Webhook endpoints and their deliveries, as operators manage them (command line, admin)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, ScalarSelect, and_, delete, func, insert, select, update

from bot.clock import new_id
from bot.partners.codes import is_referral_code
from bot.storage.database import Transaction
from bot.storage.models import WebhookDelivery, WebhookEndpoint
from bot.storage.row_by_row import row_by_row
from flows.catalogue import default_catalogue

URL = re.compile(r"^https?://[^\s/?#]+(/\S*)?$")
DeliveryState = Literal["pending", "delivered", "failed"]
ROTATION_OVERLAP = timedelta(hours=24)

_PENDING = and_(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.failed_at.is_(None))
# Failed, and still possible to send again (its lead was not erased).
_REPLAYABLE = and_(WebhookDelivery.failed_at.is_not(None), WebhookDelivery.body.is_not(None))
_STATE: dict[DeliveryState, ColumnElement[bool]] = {
    "pending": _PENDING,
    "delivered": WebhookDelivery.delivered_at.is_not(None),
    "failed": WebhookDelivery.failed_at.is_not(None),
}


class EndpointError(ValueError):
    """A wrong endpoint argument, or an unknown endpoint or delivery; says which."""


@dataclass(frozen=True)
class EndpointInfo:
    id: str
    name: str
    url: str
    site: str | None
    referrer_code: str | None
    created_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None
    rotating_until: datetime | None
    pending: int
    failed: int

    @property
    def scope(self) -> str:
        if self.referrer_code:
            return f"referrer {self.referrer_code} (follow-up view)"
        return f"site {self.site}" if self.site else "all leads"


@dataclass(frozen=True)
class DeliveryInfo:
    id: str
    endpoint_id: str
    lead_id: str
    event_type: str
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    erased: bool


def check_endpoint(url: str, name: str, site: str | None, referrer: str | None) -> None:
    if not URL.match(url):
        raise EndpointError(f"URL {url!r}: expected an http:// or https:// address")
    if not 0 < len(name) <= 200:
        raise EndpointError("--name: expected 1-200 characters")
    if site is not None:
        known = [s.id for s in default_catalogue().sites]
        if site not in known:
            raise EndpointError(f"--site {site!r}: expected one of {', '.join(known)}")
    if referrer is not None and not is_referral_code(referrer):
        raise EndpointError(f"--referrer {referrer!r}: expected 1-64 characters A-Z a-z 0-9 _ -")
    if site is not None and referrer is not None:
        raise EndpointError("--site and --referrer: choose one filter")


async def add_endpoint(
    tx: Transaction,
    *,
    url: str,
    name: str,
    site: str | None,
    referrer: str | None,
    secret: str,
    now: datetime,
) -> str:
    check_endpoint(url, name, site, referrer)
    endpoint_id = new_id()
    await tx.run(
        insert(WebhookEndpoint).values(
            id=endpoint_id,
            name=name,
            url=url,
            site=site,
            referrer_code=referrer,
            secret=secret,
            created_at=now,
        )
    )
    return endpoint_id


def _count_of_endpoint(condition: ColumnElement[bool]) -> ScalarSelect[int]:
    """How many of the endpoint's deliveries meet ``condition`` (a column of its row)."""
    # The endpoint tested row by row on SQLite: the few pending or failed deliveries are read
    # from their partial indexes, not every delivery of the endpoint from its own.
    return (
        select(func.count())
        .select_from(WebhookDelivery)
        .where(row_by_row(WebhookDelivery.endpoint_id) == WebhookEndpoint.id, condition)
        .scalar_subquery()
    )


async def list_endpoints(tx: Transaction, *, now: datetime) -> list[EndpointInfo]:
    rows = await tx.all(
        select(
            WebhookEndpoint.id,
            WebhookEndpoint.name,
            WebhookEndpoint.url,
            WebhookEndpoint.site,
            WebhookEndpoint.referrer_code,
            WebhookEndpoint.created_at,
            WebhookEndpoint.disabled_at,
            WebhookEndpoint.disabled_reason,
            WebhookEndpoint.previous_secret_until,
            _count_of_endpoint(_PENDING),
            _count_of_endpoint(_REPLAYABLE),
        ).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return [_endpoint_info(row, now) for row in rows]


def _endpoint_info(row: tuple[Any, ...], now: datetime) -> EndpointInfo:
    # Eleven columns: more than select() types, so they are named here.
    (id_, name, url, site, referrer, created_at, disabled_at, reason, until, pending, failed) = row
    return EndpointInfo(
        id=id_,
        name=name,
        url=url,
        site=site,
        referrer_code=referrer,
        created_at=created_at,
        disabled_at=disabled_at,
        disabled_reason=reason,
        rotating_until=until if until is not None and until > now else None,
        pending=int(pending),
        failed=int(failed),
    )


async def _require(tx: Transaction, endpoint_id: str) -> str:
    """The endpoint's current secret; EndpointError if there is no such endpoint."""
    secret = await tx.scalar(
        select(WebhookEndpoint.secret).where(WebhookEndpoint.id == endpoint_id)
    )
    if secret is None:
        raise EndpointError(f"no endpoint {endpoint_id!r} (see: aiguillage endpoints list)")
    return secret


async def rotate_secret(
    tx: Transaction, endpoint_id: str, new_secret: str, *, now: datetime
) -> datetime:
    """Sign with a new secret from now; the old one signs too until the returned time."""
    old = await _require(tx, endpoint_id)
    until = now + ROTATION_OVERLAP
    await tx.run(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(secret=new_secret, previous_secret=old, previous_secret_until=until)
    )
    return until


async def set_enabled(
    tx: Transaction, endpoint_id: str, enabled: bool, *, now: datetime, reason: str | None = None
) -> None:
    """Disabling holds the endpoint's deliveries (kept, not sent); enabling sends them."""
    await _require(tx, endpoint_id)
    await tx.run(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(
            disabled_at=None if enabled else now,
            disabled_reason=None if enabled else reason or "disabled by an operator",
        )
    )


async def remove_endpoint(tx: Transaction, endpoint_id: str) -> int:
    """Delete an endpoint with its deliveries; how many undelivered ones went with it."""
    await _require(tx, endpoint_id)
    waiting = await tx.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, _PENDING)
    )
    await tx.run(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    return waiting or 0


_DELIVERY_COLUMNS = (
    WebhookDelivery.id,
    WebhookDelivery.endpoint_id,
    WebhookDelivery.lead_id,
    WebhookDelivery.event_type,
    WebhookDelivery.attempts,
    WebhookDelivery.created_at,
    WebhookDelivery.next_attempt_at,
    WebhookDelivery.delivered_at,
    WebhookDelivery.failed_at,
    WebhookDelivery.last_status,
    WebhookDelivery.last_error,
    WebhookDelivery.body.is_(None).label("erased"),
)


async def list_deliveries(
    tx: Transaction,
    *,
    state: DeliveryState | None = None,
    endpoint_id: str | None = None,
    lead_id: str | None = None,
    limit: int = 50,
) -> list[DeliveryInfo]:
    """Deliveries, newest first, filtered by state, endpoint or lead."""
    conditions = []
    if state is not None:
        conditions.append(_STATE[state])
    if endpoint_id is not None:
        conditions.append(WebhookDelivery.endpoint_id == endpoint_id)
    if lead_id is not None:
        conditions.append(WebhookDelivery.lead_id == lead_id)
    rows = await tx.all(
        select(*_DELIVERY_COLUMNS)
        .where(*conditions)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .limit(limit)
    )
    return [_delivery_info(row) for row in rows]


async def find_delivery(tx: Transaction, delivery_id: str) -> DeliveryInfo | None:
    """One delivery, or None when there is no such delivery."""
    row = await tx.first(select(*_DELIVERY_COLUMNS).where(WebhookDelivery.id == delivery_id))
    return _delivery_info(row) if row is not None else None


def _delivery_info(row: tuple[Any, ...]) -> DeliveryInfo:
    # Twelve columns: more than select() types, so they are named here.
    (
        id_,
        endpoint_id,
        lead_id,
        event_type,
        attempts,
        created_at,
        next_attempt_at,
        delivered_at,
        failed_at,
        last_status,
        last_error,
        erased,
    ) = row
    state: DeliveryState = (
        "delivered"
        if delivered_at is not None
        else "failed"
        if failed_at is not None
        else "pending"
    )
    return DeliveryInfo(
        id=id_,
        endpoint_id=endpoint_id,
        lead_id=lead_id,
        event_type=event_type,
        state=state,
        attempts=attempts,
        created_at=created_at,
        next_attempt_at=next_attempt_at if state == "pending" else None,
        last_status=last_status,
        last_error=last_error,
        erased=erased,
    )


async def replay(tx: Transaction, delivery_ids: list[str], *, now: datetime) -> int:
    """Send deliveries again, from a fresh schedule, with their webhook-id; how many."""
    count = 0
    for delivery_id in delivery_ids:
        row = await tx.first(select(WebhookDelivery.body).where(WebhookDelivery.id == delivery_id))
        if row is None:
            raise EndpointError(f"no delivery {delivery_id!r} (see: aiguillage deliveries list)")
        if row[0] is None:
            raise EndpointError(f"delivery {delivery_id!r}: its lead was erased, nothing to send")
        count += await tx.run(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(
                failed_at=None, delivered_at=None, attempts=0, lease_until=None, next_attempt_at=now
            )
        )
    return count


async def failed_ids(tx: Transaction, *, endpoint_id: str | None = None) -> list[str]:
    """Every failed delivery that can still be sent (its lead not erased)."""
    conditions = [_REPLAYABLE]
    if endpoint_id:
        conditions.append(WebhookDelivery.endpoint_id == endpoint_id)
    return await tx.scalars(
        select(WebhookDelivery.id)
        .where(*conditions)
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
    )
