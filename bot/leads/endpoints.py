"""Webhook endpoints and their deliveries, as operators manage them (command line, admin)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.clock import new_id
from bot.storage.database import Row, Transaction
from bot.storage.values import as_datetime
from flows.catalogue import default_catalogue

URL = re.compile(r"^https?://[^\s/?#]+(/\S*)?$")
REFERRER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DeliveryState = Literal["pending", "delivered", "failed"]
ROTATION_OVERLAP = timedelta(hours=24)


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
    if referrer is not None and not REFERRER.match(referrer):
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
    await tx.write(
        "INSERT INTO webhook_endpoints (id, name, url, site, referrer_code, secret, created_at)"
        " VALUES (:id, :name, :url, :site, :referrer, :secret, :now)",
        {
            "id": endpoint_id,
            "name": name,
            "url": url,
            "site": site,
            "referrer": referrer,
            "secret": secret,
            "now": now,
        },
    )
    return endpoint_id


async def list_endpoints(tx: Transaction, *, now: datetime) -> list[EndpointInfo]:
    rows = await tx.fetch(
        "SELECT e.id, e.name, e.url, e.site, e.referrer_code, e.created_at, e.disabled_at,"
        " e.disabled_reason, e.previous_secret_until,"
        " (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id"
        "  AND d.delivered_at IS NULL AND d.failed_at IS NULL) AS pending,"
        " (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id"
        "  AND d.failed_at IS NOT NULL AND d.body IS NOT NULL) AS failed"
        " FROM webhook_endpoints e ORDER BY e.created_at, e.id"
    )
    return [_endpoint_info(row, now) for row in rows]


def _endpoint_info(row: Row, now: datetime) -> EndpointInfo:
    created_at = as_datetime(row["created_at"])
    assert created_at is not None
    until = as_datetime(row["previous_secret_until"])
    return EndpointInfo(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        site=row["site"],
        referrer_code=row["referrer_code"],
        created_at=created_at,
        disabled_at=as_datetime(row["disabled_at"]),
        disabled_reason=row["disabled_reason"],
        rotating_until=until if until is not None and until > now else None,
        pending=int(row["pending"]),
        failed=int(row["failed"]),
    )


async def _require(tx: Transaction, endpoint_id: str) -> Row:
    row = await tx.fetch_one(
        "SELECT id, secret, disabled_at FROM webhook_endpoints WHERE id = :id", {"id": endpoint_id}
    )
    if row is None:
        raise EndpointError(f"no endpoint {endpoint_id!r} (see: aiguillage endpoints list)")
    return row


async def rotate_secret(
    tx: Transaction, endpoint_id: str, new_secret: str, *, now: datetime
) -> datetime:
    """Sign with a new secret from now; the old one signs too until the returned time."""
    row = await _require(tx, endpoint_id)
    until = now + ROTATION_OVERLAP
    await tx.write(
        "UPDATE webhook_endpoints SET secret = :secret, previous_secret = :old,"
        " previous_secret_until = :until WHERE id = :id",
        {"secret": new_secret, "old": row["secret"], "until": until, "id": endpoint_id},
    )
    return until


async def set_enabled(
    tx: Transaction, endpoint_id: str, enabled: bool, *, now: datetime, reason: str | None = None
) -> None:
    """Disabling holds the endpoint's deliveries (kept, not sent); enabling sends them."""
    await _require(tx, endpoint_id)
    await tx.write(
        "UPDATE webhook_endpoints SET disabled_at = :at, disabled_reason = :reason WHERE id = :id",
        {
            "at": None if enabled else now,
            "reason": None if enabled else reason or "disabled by an operator",
            "id": endpoint_id,
        },
    )


async def remove_endpoint(tx: Transaction, endpoint_id: str) -> int:
    """Delete an endpoint with its deliveries; how many undelivered ones went with it."""
    await _require(tx, endpoint_id)
    row = await tx.fetch_one(
        "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = :id"
        " AND delivered_at IS NULL AND failed_at IS NULL",
        {"id": endpoint_id},
    )
    await tx.write("DELETE FROM webhook_endpoints WHERE id = :id", {"id": endpoint_id})
    return int(row["n"]) if row else 0


_STATE = {
    "pending": "d.delivered_at IS NULL AND d.failed_at IS NULL",
    "delivered": "d.delivered_at IS NOT NULL",
    "failed": "d.failed_at IS NOT NULL",
}


async def list_deliveries(
    tx: Transaction,
    *,
    state: DeliveryState | None = None,
    endpoint_id: str | None = None,
    lead_id: str | None = None,
    limit: int = 50,
) -> list[DeliveryInfo]:
    """Deliveries, newest first, filtered by state, endpoint or lead."""
    where = ["1 = 1"]
    if state is not None:
        where.append(_STATE[state])
    if endpoint_id is not None:
        where.append("d.endpoint_id = :endpoint_id")
    if lead_id is not None:
        where.append("d.lead_id = :lead_id")
    rows = await tx.fetch(
        "SELECT d.id, d.endpoint_id, d.lead_id, d.event_type, d.attempts, d.created_at,"
        " d.next_attempt_at, d.delivered_at, d.failed_at, d.last_status, d.last_error,"
        " d.body IS NULL AS erased FROM webhook_deliveries d WHERE "
        + " AND ".join(where)
        + " ORDER BY d.created_at DESC, d.id LIMIT :limit",
        {"endpoint_id": endpoint_id, "lead_id": lead_id, "limit": limit},
    )
    return [_delivery_info(row) for row in rows]


def _delivery_info(row: Row) -> DeliveryInfo:
    created_at = as_datetime(row["created_at"])
    assert created_at is not None
    state: DeliveryState = (
        "delivered"
        if row["delivered_at"] is not None
        else "failed"
        if row["failed_at"] is not None
        else "pending"
    )
    return DeliveryInfo(
        id=row["id"],
        endpoint_id=row["endpoint_id"],
        lead_id=row["lead_id"],
        event_type=row["event_type"],
        state=state,
        attempts=int(row["attempts"]),
        created_at=created_at,
        next_attempt_at=as_datetime(row["next_attempt_at"]) if state == "pending" else None,
        last_status=row["last_status"],
        last_error=row["last_error"],
        erased=bool(row["erased"]),
    )


async def replay(tx: Transaction, delivery_ids: list[str], *, now: datetime) -> int:
    """Send deliveries again, from a fresh schedule, with their webhook-id; how many."""
    count = 0
    for delivery_id in delivery_ids:
        row = await tx.fetch_one(
            "SELECT body FROM webhook_deliveries WHERE id = :id", {"id": delivery_id}
        )
        if row is None:
            raise EndpointError(f"no delivery {delivery_id!r} (see: aiguillage deliveries list)")
        if row["body"] is None:
            raise EndpointError(f"delivery {delivery_id!r}: its lead was erased, nothing to send")
        count += await tx.execute(
            "UPDATE webhook_deliveries SET failed_at = NULL, delivered_at = NULL, attempts = 0,"
            " lease_until = NULL, next_attempt_at = :now WHERE id = :id",
            {"now": now, "id": delivery_id},
        )
    return count


async def failed_ids(tx: Transaction, *, endpoint_id: str | None = None) -> list[str]:
    """Every failed delivery that can still be sent (its lead not erased)."""
    rows = await tx.fetch(
        "SELECT id FROM webhook_deliveries WHERE failed_at IS NOT NULL AND body IS NOT NULL"
        + (" AND endpoint_id = :endpoint_id" if endpoint_id else "")
        + " ORDER BY created_at, id",
        {"endpoint_id": endpoint_id},
    )
    return [row["id"] for row in rows]
