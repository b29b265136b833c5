"""Reminders: one kind nudge for a conversation left unfinished, then closing it after a week."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversations import ConversationService
from bot.storage.models import Conversation, OutboxMessage
from bot.storage.types import utcnow
from bot.telegram._waiting import wait_for_work
from bot.telegram.outbound import reply_calls
from flows.i18n import parse_language, text
from flows.render import RenderedMessage

logger = logging.getLogger(__name__)
BATCH = 50


class ReminderJob:
    """Queues due nudges in the outbox and closes week-old conversations."""

    def __init__(
        self,
        service: ConversationService,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        every_seconds: float = 60.0,
    ) -> None:
        self.service = service
        self.session_factory = session_factory
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
            async with self.session_factory() as session, session.begin():
                now = utcnow()
                query = (
                    select(Conversation)
                    .where(or_(Conversation.remind_at <= now, Conversation.close_at <= now))
                    .limit(BATCH)
                )
                if session.get_bind().dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                due = list(await session.scalars(query))
                for conversation in due:
                    await self._handle(session, conversation)
            handled += len(due)
            if len(due) < BATCH:
                return handled

    async def _handle(self, session: AsyncSession, conversation: Conversation) -> None:
        now = utcnow()
        if conversation.close_at is not None and conversation.close_at <= now:
            conversation.status = "closed"
            conversation.remind_at = conversation.close_at = None
            logger.info("conversation closed", extra={"conversation": conversation.id})
            return
        conversation.remind_at = None
        if conversation.unreachable_at is not None or conversation.channel != "telegram":
            return
        peeked = await self.service.peek(
            session, channel=conversation.channel, external_id=conversation.external_id
        )
        if peeked is None:
            return
        state, messages = peeked
        language = parse_language(conversation.language)
        nudge = RenderedMessage(text=text("reminder.nudge", language))
        chat_id = int(conversation.external_id)
        for call in reply_calls(chat_id, [nudge, *messages], step=state.step, language=language):
            session.add(OutboxMessage(chat_id=chat_id, method=call.method, payload=call.payload))
        conversation.reminded_at = now
        logger.info("reminder queued", extra={"conversation": conversation.id})
