"""The SMS sent and the numbers that said STOP, in the database (the caller's transaction).

A message's status only moves forward: queued, then sent (the provider took it), then
delivered or failed; a report that arrives late (``sent`` after ``delivered``) changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.storage.database import Transaction


class SmsStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


# The statuses a message may leave for each status.
_EARLIER = {
    SmsStatus.SENT: (SmsStatus.QUEUED,),
    SmsStatus.DELIVERED: (SmsStatus.QUEUED, SmsStatus.SENT),
    SmsStatus.FAILED: (SmsStatus.QUEUED, SmsStatus.SENT),
}
DETAIL_MAX = 64


async def add_message(tx: Transaction, *, booking_id: str | None, now: datetime) -> int:
    """A queued SMS; its id, which the provider's reports bring back as the message's tag."""
    row = await tx.fetch_one(
        "INSERT INTO sms_messages (booking_id, status, created_at, updated_at)"
        " VALUES (:booking_id, :status, :now, :now) RETURNING id",
        {"booking_id": booking_id, "status": SmsStatus.QUEUED.value, "now": now},
    )
    assert row is not None
    return int(row["id"])


async def advance(
    tx: Transaction,
    *,
    sms_id: int | None,
    provider_id: str | None,
    status: SmsStatus,
    detail: str | None,
    now: datetime,
) -> int | None:
    """Move a message (by our id, else by the provider's) to a later status; its id, or None
    when no message matches. The provider's id is kept the first time it is learnt."""
    if sms_id is not None:
        row = await tx.fetch_one("SELECT id FROM sms_messages WHERE id = :id", {"id": sms_id})
    elif provider_id is not None:
        row = await tx.fetch_one(
            "SELECT id FROM sms_messages WHERE provider_id = :provider_id ORDER BY id LIMIT 1",
            {"provider_id": provider_id},
        )
    else:
        return None
    if row is None:
        return None
    found = int(row["id"])
    earlier = _EARLIER[status]
    marks = ", ".join(f":earlier{n}" for n in range(len(earlier)))
    await tx.execute(
        "UPDATE sms_messages SET status = :status, detail = :detail, updated_at = :now,"
        " provider_id = COALESCE(provider_id, :provider_id)"
        f" WHERE id = :id AND status IN ({marks})",
        {
            **{f"earlier{n}": value.value for n, value in enumerate(earlier)},
            "id": found,
            "status": status.value,
            "detail": detail[:DETAIL_MAX] if detail else None,
            "provider_id": provider_id,
            "now": now,
        },
    )
    return found


async def booking_of(tx: Transaction, sms_id: int) -> str | None:
    """The booking an SMS was about, if any."""
    row = await tx.fetch_one("SELECT booking_id FROM sms_messages WHERE id = :id", {"id": sms_id})
    return str(row["booking_id"]) if row and row["booking_id"] is not None else None


async def status_of(tx: Transaction, sms_id: int) -> tuple[SmsStatus, str | None] | None:
    """A message's status and the provider's word for it."""
    row = await tx.fetch_one(
        "SELECT status, detail FROM sms_messages WHERE id = :id", {"id": sms_id}
    )
    return (SmsStatus(row["status"]), row["detail"]) if row else None


async def add_stop(tx: Transaction, phone_hash: str, *, now: datetime) -> None:
    """No SMS goes to this number again (kept once, however often it says STOP)."""
    await tx.execute(
        "INSERT INTO sms_stops (phone_hash, at) VALUES (:phone_hash, :now)"
        " ON CONFLICT (phone_hash) DO NOTHING",
        {"phone_hash": phone_hash, "now": now},
    )


async def stopped(tx: Transaction, phone_hash: str) -> bool:
    """Whether this number said STOP."""
    row = await tx.fetch_one(
        "SELECT 1 AS stopped FROM sms_stops WHERE phone_hash = :phone_hash",
        {"phone_hash": phone_hash},
    )
    return row is not None
