"""Keeping personal data no longer than the privacy notice says, on a schedule."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import Conversation, OutboxMessage, TelegramUpdate, WebhookDelivery
from bot.storage.types import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """How long each kind of data is kept."""

    # The privacy notice: a conversation left alone is erased after 3 months.
    conversations: timedelta = timedelta(days=90)
    # Telegram retries a delivery for 24 hours: messages in and out are kept twice that.
    telegram_messages: timedelta = timedelta(hours=48)
    # A lead webhook's body (the lead's data) once delivered or given up: long enough to
    # replay it; the delivery row stays, empty, as the trace that it was sent.
    delivery_bodies: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class Purged:
    conversations: int
    telegram_updates: int
    outbox_messages: int
    delivery_bodies: int = 0


async def purge(session: AsyncSession, retention: Retention) -> Purged:
    """Erase what is older than its retention (transcripts go with their conversation)."""
    now = utcnow()
    conversations = await session.execute(
        delete(Conversation).where(Conversation.updated_at < now - retention.conversations)
    )
    updates = await session.execute(
        delete(TelegramUpdate).where(
            TelegramUpdate.processed_at.is_not(None),
            TelegramUpdate.received_at < now - retention.telegram_messages,
        )
    )
    outbox = await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.sent_at < now - retention.telegram_messages,
        )
    )
    done_before = now - retention.delivery_bodies
    bodies = await session.execute(
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
    purged = Purged(
        getattr(conversations, "rowcount", 0),
        getattr(updates, "rowcount", 0),
        getattr(outbox, "rowcount", 0),
        getattr(bodies, "rowcount", 0),
    )
    logger.info("purge done", extra={"purged": purged.__dict__})
    return purged


async def purge_daily(
    session_factory: async_sessionmaker[AsyncSession],
    retention: Retention,
    *,
    every: timedelta = timedelta(hours=24),
) -> None:
    """Purge at start, then every day, until cancelled (runs inside ``aiguillage serve``)."""
    while True:
        try:
            async with session_factory() as session, session.begin():
                await purge(session, retention)
        except Exception:
            logger.exception("purge failed")
        await asyncio.sleep(every.total_seconds())


async def stop(task: asyncio.Task[None] | None) -> None:
    """Cancel the purge loop between two runs (it holds no transaction while it sleeps)."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
