"""Keeping personal data no longer than the privacy notice says, on a schedule.

Closed leads are erased too, some months after they were closed (enrolled, not eligible,
unreachable, withdrawn: see ``CLOSING_STATUSES`` in bot/leads/store.py), with their status
history, notes and bookings (with their reminders and SMS records): the database cascades.
Their lead webhooks keep their rows, as the trace that something was sent, but lose their
bodies (the lead's data), and one still waiting is given up.

Decision: no ``lead.deleted`` is sent for a lead erased by retention (unlike an erasure the
person asked for, bot/leads/deliveries.py ``erase_lead_deliveries``). That event tells every
receiver that the person asked to be forgotten, which they must act on; a retention period is
each holder's own to apply, and a receiver may have to keep its record of someone it
enrolled. Sending it for every expired lead would also blur the one signal that matters.
The audit log keeps its lines: they name the lead's id only, never its data.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select, update

from bot.appointments import bookings
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.whatsapp import CHANNEL as WHATSAPP
from bot.clock import utcnow
from bot.messaging import inbox, outbox
from bot.storage.database import Database, Transaction
from bot.storage.models import Conversation, Lead, WebhookDelivery
from bot.waiting import wait_for_work

if TYPE_CHECKING:
    from bot.settings import Settings

logger = logging.getLogger(__name__)

# Retention periods given in months count months of 30 days.
MONTH_DAYS = 30
# Lead ids handled per statement: well below every driver's limit of parameters.
_CHUNK = 500
RETENTION_ERASED = "lead erased (retention) before delivery"


@dataclass(frozen=True)
class Retention:
    """How long each kind of data is kept."""

    # The privacy notice: a conversation left alone is erased after 3 months.
    conversations: timedelta = timedelta(days=90)
    # Telegram retries a delivery for 24 hours: messages in and out are kept twice that.
    telegram_messages: timedelta = timedelta(hours=48)
    # WhatsApp retries a notification for up to 7 days: what came in is kept a day longer, so
    # that a late retry is still recognised (what the person wrote is in the transcript anyway).
    whatsapp_messages: timedelta = timedelta(days=8)
    # A lead webhook's body (the lead's data) once delivered or given up: long enough to
    # replay it; the delivery row stays, empty, as the trace that it was sent.
    delivery_bodies: timedelta = timedelta(days=30)
    # A lead the counsellors closed (enrolled, not eligible…), counted from its closing.
    closed_leads: timedelta = timedelta(days=12 * MONTH_DAYS)
    # How a booked person is reached (chat, SMS number), after their session's start: long
    # enough to mark attendance (the admin lists sessions of the last 14 days) and send a
    # no-show its message; the booking itself stays with its lead.
    booking_contacts: timedelta = timedelta(days=14)

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        """The periods this service is configured with (the others are fixed)."""
        return cls(
            conversations=timedelta(days=settings.retention_conversation_days),
            closed_leads=timedelta(days=settings.retention_lead_months * MONTH_DAYS),
        )


@dataclass(frozen=True)
class Purged:
    conversations: int
    inbox_updates: int
    outbox_messages: int
    delivery_bodies: int = 0
    leads: int = 0
    booking_contacts: int = 0


async def purge(tx: Transaction, retention: Retention) -> Purged:
    """Erase what is older than its retention (transcripts go with their conversation)."""
    now = utcnow()
    conversations = await tx.run(
        delete(Conversation).where(Conversation.updated_at < now - retention.conversations)
    )
    updates = await inbox.purge(
        tx,
        received_before={
            TELEGRAM: now - retention.telegram_messages,
            WHATSAPP: now - retention.whatsapp_messages,
        },
    )
    sent = await outbox.purge(tx, sent_before=now - retention.telegram_messages)
    done_before = now - retention.delivery_bodies
    bodies = await tx.run(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.body.is_not(None),
            or_(
                WebhookDelivery.delivered_at < done_before,
                WebhookDelivery.failed_at < done_before,
            ),
        )
        .values(body=None)
    )
    leads = await _erase_closed_leads(tx, now - retention.closed_leads, now)
    contacts = await bookings.forget_contacts(tx, sessions_before=now - retention.booking_contacts)
    purged = Purged(conversations, updates, sent, bodies, leads, contacts)
    logger.info("purge done", extra={"purged": purged.__dict__})
    return purged


async def _erase_closed_leads(tx: Transaction, closed_before: datetime, now: datetime) -> int:
    """Erase the leads closed before then, and their webhooks' bodies; how many leads."""
    # Locked until the purge commits (on PostgreSQL; SQLite has one writer anyway): a
    # counsellor reopening one meanwhile waits, then finds it erased rather than half erased.
    lead_ids = await tx.scalars(
        select(Lead.id)
        .where(Lead.closed_at.is_not(None), Lead.closed_at < closed_before)
        .order_by(Lead.id)
        .with_for_update()
    )
    erased = 0
    for start in range(0, len(lead_ids), _CHUNK):
        chunk = lead_ids[start : start + _CHUNK]
        # Still waiting: given up, as nothing is left to send (the worker skips empty bodies).
        await tx.run(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.lead_id.in_(chunk),
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.failed_at.is_(None),
            )
            .values(failed_at=now, lease_until=None, last_error=RETENTION_ERASED)
        )
        await tx.run(
            update(WebhookDelivery)
            .where(WebhookDelivery.lead_id.in_(chunk), WebhookDelivery.body.is_not(None))
            .values(body=None)
        )
        # Status history, notes and bookings go with it (ON DELETE CASCADE; a statement, not
        # ORM objects, so the database does it: SQLite too, its connections turn foreign
        # keys on in bot/storage/sqlite_pragmas.py).
        erased += await tx.run(delete(Lead).where(Lead.id.in_(chunk)))
    return erased


class DailyPurge:
    """Purge at start, then every day, until stopped (runs inside ``aiguillage serve``).

    Stopping lets a purge under way finish: cancelled in the middle of its transaction, it
    would leave its connection checked out, and closing the database would wait for it
    forever (PostgreSQL's pool waits for every connection to come back).
    """

    def __init__(
        self, database: Database, retention: Retention, *, every: timedelta = timedelta(hours=24)
    ) -> None:
        self.database = database
        self.retention = retention
        self.every = every
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                async with self.database.transaction() as tx:
                    await purge(tx, self.retention)
            except Exception:
                logger.exception("purge failed")
            await wait_for_work(self._stopping, self.every.total_seconds(), clear=False)

    async def stop(self) -> None:
        """Stop after the purge under way, if any (it holds no transaction while it waits)."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None
