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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select, update

from bot import funnel_stages
from bot.appointments import bookings
from bot.batches import Batch, Batching, Step, in_batches
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


async def purge(
    database: Database, retention: Retention, *, batching: Batching | None = None
) -> Purged:
    """Erase what is older than its retention (transcripts go with their conversation), in
    short transactions of a bounded batch each (bot/batches.py), until nothing is due."""
    batching = batching or Batching()
    now = utcnow()

    async def batches(step: Step) -> int:
        return await in_batches(database, step, batching)

    conversations = await batches(_conversations_idle_since(now - retention.conversations))
    updates = 0
    for channel, kept in (
        (TELEGRAM, retention.telegram_messages),
        (WHATSAPP, retention.whatsapp_messages),
    ):
        updates += await batches(_erased(inbox.purge, channel=channel, received_before=now - kept))
    sent = await batches(_erased(outbox.purge, sent_before=now - retention.telegram_messages))
    bodies = await batches(_delivery_bodies_done_before(now - retention.delivery_bodies))
    leads = await batches(_closed_leads(now - retention.closed_leads, now))
    contacts = await batches(
        _erased(bookings.forget_contacts, sessions_before=now - retention.booking_contacts)
    )
    purged = Purged(conversations, updates, sent, bodies, leads, contacts)
    logger.info("purge done", extra={"purged": purged.__dict__})
    return purged


def _erased(erase: Callable[..., Awaitable[int]], **due: Any) -> Step:
    """A batch of a storage module's own purge (keyword ``limit``: how many rows at most)."""

    async def step(tx: Transaction, limit: int) -> Batch:
        changed = await erase(tx, limit=limit, **due)
        return Batch(changed, more=changed >= limit)

    return step


def _conversations_idle_since(before: datetime) -> Step:
    """Conversations left alone since then; their transcripts go with them (ON DELETE CASCADE)."""
    idle = Conversation.updated_at < before

    async def step(tx: Transaction, limit: int) -> Batch:
        oldest = select(Conversation.id).where(idle).order_by(Conversation.updated_at).limit(limit)
        # Checked again on the row itself: on PostgreSQL, a person who wrote meanwhile keeps it.
        erased = await tx.run(delete(Conversation).where(idle, Conversation.id.in_(oldest)))
        return Batch(erased, more=erased >= limit)

    return step


def _delivery_bodies_done_before(done_before: datetime) -> Step:
    """Empty the bodies of lead webhooks delivered or given up before then.

    Walked in key order among those that still hold a body (an index of them alone: the rows
    already emptied, nearly all of them, kept as traces, are not read), a window at a time:
    the bodies kept for their 30 days are then read once, not again at every batch.
    """
    after = ""

    async def step(tx: Transaction, limit: int) -> Batch:
        nonlocal after
        window = await tx.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.body.is_not(None), WebhookDelivery.id > after)
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        if not window:
            return Batch(0, more=False)
        emptied = await tx.run(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(window),
                WebhookDelivery.body.is_not(None),
                or_(
                    WebhookDelivery.delivered_at < done_before,
                    WebhookDelivery.failed_at < done_before,
                ),
            )
            .values(body=None)
        )
        after = window[-1]
        return Batch(emptied, more=len(window) >= limit)

    return step


def _closed_leads(closed_before: datetime, now: datetime) -> Step:
    """Erase leads closed before then, and their webhooks' bodies; a batch's count is of leads."""

    async def step(tx: Transaction, limit: int) -> Batch:
        # Locked until the batch commits (on PostgreSQL; SQLite has one writer anyway): a
        # counsellor reopening one meanwhile waits, then finds it erased rather than half erased.
        lead_ids = await tx.scalars(
            select(Lead.id)
            .where(Lead.closed_at.is_not(None), Lead.closed_at < closed_before)
            .order_by(Lead.closed_at)
            .limit(limit)
            .with_for_update()
        )
        if not lead_ids:
            return Batch(0, more=False)
        # Still waiting: given up, as nothing is left to send (the worker skips empty bodies).
        await tx.run(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.lead_id.in_(lead_ids),
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.failed_at.is_(None),
            )
            .values(failed_at=now, lease_until=None, last_error=RETENTION_ERASED)
        )
        await tx.run(
            update(WebhookDelivery)
            .where(WebhookDelivery.lead_id.in_(lead_ids), WebhookDelivery.body.is_not(None))
            .values(body=None)
        )
        # Status history, notes and bookings go with it, in this batch (ON DELETE CASCADE; a
        # statement, not ORM objects, so the database does it: SQLite too, its connections
        # turn foreign keys on in bot/storage/sqlite_pragmas.py).
        await funnel_stages.leads_erased(tx, lead_ids)
        erased = await tx.run(delete(Lead).where(Lead.id.in_(lead_ids)))
        return Batch(erased, more=len(lead_ids) >= limit)

    return step


class DailyPurge:
    """Purge at start, then every day, until stopped (runs inside ``aiguillage serve``).

    Stopping lets the purge's batch under way finish, then stops it (each batch is complete in
    itself; the next day's purge erases the rest): cancelled in the middle of its transaction,
    it would leave its connection checked out, and closing the database would wait for it
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
                await purge(self.database, self.retention, batching=Batching(stop=self._stopping))
            except Exception:
                logger.exception("purge failed")
            await wait_for_work(self._stopping, self.every.total_seconds(), clear=False)

    async def stop(self) -> None:
        """Stop after the purge's batch under way, if any (none is held while it waits)."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None
