"""Reminders: one kind nudge for a conversation left unfinished, then closing it after a week."""

from __future__ import annotations

import asyncio
import logging

from bot.channels.telegram.render import reply_calls
from bot.clock import utcnow
from bot.conversations.service import ConversationService
from bot.storage.database import Database, Row, Transaction
from bot.storage.values import as_datetime
from bot.waiting import wait_for_work
from flows.i18n import parse_language, text
from flows.render import RenderedMessage

logger = logging.getLogger(__name__)
BATCH = 50


class ReminderJob:
    """Queues due nudges in the outbox and closes week-old conversations."""

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
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.database.dialect == "postgresql" else ""
        while True:
            async with self.database.transaction() as tx:
                due = await tx.fetch(
                    "SELECT id, channel, external_id, language, unreachable_at, close_at"
                    " FROM conversations WHERE remind_at <= :now OR close_at <= :now"
                    " ORDER BY id LIMIT :limit" + skip_locked,
                    {"now": utcnow(), "limit": BATCH},
                )
                for conversation in due:
                    await self._handle(tx, conversation)
            handled += len(due)
            if len(due) < BATCH:
                return handled

    async def _handle(self, tx: Transaction, conversation: Row) -> None:
        now = utcnow()
        key = {"id": conversation["id"], "now": now}
        close_at = as_datetime(conversation["close_at"])
        if close_at is not None and close_at <= now:
            await tx.execute(
                "UPDATE conversations SET status = 'closed', remind_at = NULL, close_at = NULL"
                " WHERE id = :id",
                key,
            )
            logger.info("conversation closed", extra={"conversation": conversation["id"]})
            return
        reachable = conversation["unreachable_at"] is None
        peeked = (
            await self.service.peek(
                tx, channel=conversation["channel"], external_id=conversation["external_id"]
            )
            if reachable and conversation["channel"] == "telegram"
            else None
        )
        if peeked is None:
            await tx.execute("UPDATE conversations SET remind_at = NULL WHERE id = :id", key)
            return
        state, messages = peeked
        language = parse_language(conversation["language"])
        nudge = RenderedMessage(text=text("reminder.nudge", language))
        chat_id = int(conversation["external_id"])
        for call in reply_calls(chat_id, [nudge, *messages], step=state.step, language=language):
            await tx.execute(
                "INSERT INTO outbox_messages (chat_id, method, payload, created_at, not_before,"
                " attempts) VALUES (:chat_id, :method, :payload, :now, :now, 0)",
                {"chat_id": chat_id, "method": call.method, "payload": call.payload, "now": now},
            )
        await tx.execute(
            "UPDATE conversations SET remind_at = NULL, reminded_at = :now WHERE id = :id", key
        )
        logger.info("reminder queued", extra={"conversation": conversation["id"]})
