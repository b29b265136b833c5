"""Reminders: one kind nudge for a conversation left unfinished, then closing it after a week."""

from __future__ import annotations

import asyncio
import logging

from bot.clock import utcnow
from bot.conversations import repository
from bot.conversations.repository import Due
from bot.conversations.service import ConversationService
from bot.storage.database import Database, Transaction
from bot.waiting import wait_for_work
from flows.i18n import parse_language, text
from flows.render import RenderedMessage

logger = logging.getLogger(__name__)
BATCH = 50


class ReminderJob:
    """Queues due nudges in the outbox and closes week-old conversations, on every channel
    that can write first (bot/channels/writers.py)."""

    def __init__(
        self, service: ConversationService, database: Database, *, every_seconds: float = 60.0
    ) -> None:
        self.service = service
        self.database = database
        self.every_seconds = every_seconds

    async def run(self, stopping: asyncio.Event) -> None:
        """Check for due reminders until stopping."""
        while not stopping.is_set():
            try:
                await self.run_due()
            except Exception:
                logger.exception("reminders failed")
            await wait_for_work(stopping, self.every_seconds, clear=False)

    async def run_due(self) -> int:
        """Handle every conversation with a reminder or a closing due now; the number handled."""
        handled = 0
        while True:
            async with self.database.transaction() as tx:
                due = await repository.due_reminders(tx, now=utcnow(), limit=BATCH)
                for conversation in due:
                    await self._handle(tx, conversation)
            handled += len(due)
            if len(due) < BATCH:
                return handled

    async def _handle(self, tx: Transaction, conversation: Due) -> None:
        now = utcnow()
        if conversation.close_at is not None and conversation.close_at <= now:
            await repository.close(tx, conversation.id)
            logger.info("conversation closed", extra={"conversation": conversation.id})
            return
        peeked = (
            await self.service.peek(
                tx, channel=conversation.channel, external_id=conversation.external_id
            )
            if conversation.reachable
            else None
        )
        written = False
        if peeked is not None:
            state, messages = peeked
            language = parse_language(conversation.language)
            nudge = RenderedMessage(text=text("reminder.nudge", language))
            written = await self.service.writers.write(
                tx,
                conversation.channel,
                conversation.external_id,
                [nudge, *messages],
                step=state.step,
                language=language,
                purpose="reminder",
                now=now,
            )
        if not written:
            await repository.reminded(tx, conversation.id, at=None)
            return
        await repository.reminded(tx, conversation.id, at=now)
        logger.info("reminder queued", extra={"conversation": conversation.id})
