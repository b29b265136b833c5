"""Delivering the outbox: in order per chat, within Telegram's limits, never dropping a message."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.storage.models import Conversation, OutboxMessage
from bot.storage.queues import earlier_pending_in_chat
from bot.storage.types import utcnow
from bot.telegram._waiting import wait_for_work

logger = logging.getLogger(__name__)
PER_CHAT_INTERVAL = timedelta(seconds=1)  # Telegram: about one message a second in a chat
MAX_ATTEMPTS = 12
# Long enough for Telegram's slowest answer (15 s timeout); a crashed sender's lease expires.
LEASE = timedelta(seconds=60)
# Calls that are not messages in the chat and so not held to the per-chat pace.
UNPACED = frozenset({"answerCallbackQuery", "sendChatAction", "editMessageReplyMarkup"})


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Pace:
    """At most ``rate`` calls a second from this process (Telegram allows about 30)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_slot = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            delay = self.next_slot - now
            self.next_slot = max(now, self.next_slot) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        """Telegram asked us to slow down: nobody sends before then."""
        self.next_slot = max(self.next_slot, time.monotonic() + seconds)


class OutboxSender:
    """Sends queued Bot API calls with the real python-telegram-bot client."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bot: Bot,
        *,
        overall_rate: float = 30.0,
        per_chat_interval: timedelta = PER_CHAT_INTERVAL,
        batch: int = 30,
    ) -> None:
        self.per_chat_interval = per_chat_interval
        self.session_factory = session_factory
        self.bot = bot
        self.pace = Pace(overall_rate)
        self.batch = batch
        self.wake = asyncio.Event()

    async def run(self, stopping: asyncio.Event) -> None:
        """Send until stopping; woken when a step queues messages, or when one falls due."""
        while not stopping.is_set():
            if await self.send_pending():
                continue
            await wait_for_work(self.wake, await self._seconds_to_next_due())

    async def send_pending(self) -> int:
        """Send what is due now; the number of calls made."""
        async with self.session_factory() as session:
            ids = await self._due(session)
        results = await asyncio.gather(*(self._send(message_id) for message_id in ids))
        return sum(results)

    async def _seconds_to_next_due(self) -> float:
        """How long until a paced message becomes due (at most half a second)."""
        async with self.session_factory() as session:
            soonest = await session.scalar(
                select(func.min(OutboxMessage.not_before)).where(OutboxMessage.sent_at.is_(None))
            )
        if soonest is None:
            return 0.5
        return min(max((soonest - utcnow()).total_seconds(), 0.005), 0.5)

    async def _due(self, session: AsyncSession) -> list[int]:
        waiting = earlier_pending_in_chat(OutboxMessage, OutboxMessage.id, OutboxMessage.sent_at)
        rows = await session.scalars(
            select(OutboxMessage.id)
            .where(
                and_(
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.not_before <= utcnow(),
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < utcnow()),
                    ~waiting,
                )
            )
            .order_by(OutboxMessage.id)
            .limit(self.batch)
        )
        return list(rows)

    async def _send(self, message_id: int) -> int:
        claimed = await self._claim(message_id)
        if claimed is None:
            return 0
        method, payload, chat_id, attempts = claimed
        await self.pace.wait()
        values: dict[str, Any] = {"lease_until": None}
        unreachable = False
        try:
            await self._call(method, payload)
            values["sent_at"] = utcnow()
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            self.pace.pause(wait)
            values["not_before"] = utcnow() + timedelta(seconds=wait)
        except Forbidden as error:
            # Blocked by the person: stop writing to them, keep their data as it is.
            unreachable = True
            values.update(_abandoned(message_id, method, error))
        except BadRequest as error:
            # Telegram will never accept this call (e.g. a callback query too old).
            values.update(_abandoned(message_id, method, error))
        except NetworkError as error:
            if attempts >= MAX_ATTEMPTS:
                values.update(_abandoned(message_id, method, error))
            else:
                values["not_before"] = utcnow() + timedelta(seconds=min(2**attempts, 300))
        async with self.session_factory() as session, session.begin():
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
            )
            if unreachable:
                await self._unreachable(session, chat_id)
            if "sent_at" in values and method not in UNPACED:
                await self._pace_chat(session, chat_id, self.per_chat_interval)
        return 1 if "sent_at" in values and "last_error" not in values else 0

    async def _claim(self, message_id: int) -> tuple[str, dict[str, Any], int, int] | None:
        """Take a lease on a due message, committed before any network call."""
        now = utcnow()
        async with self.session_factory() as session, session.begin():
            taken = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.not_before <= now,
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                )
                .values(lease_until=now + LEASE, attempts=OutboxMessage.attempts + 1)
            )
            if not getattr(taken, "rowcount", 0):
                return None
            message = await session.get(OutboxMessage, message_id)
            assert message is not None
            return message.method, dict(message.payload), message.chat_id, message.attempts

    async def _call(self, method: str, payload: dict[str, Any]) -> None:
        # The payloads are plain JSON (keyboards as dicts): PTB sends dicts as they are.
        if method == "sendMessage":
            await self.bot.send_message(**payload)
        elif method == "answerCallbackQuery":
            await self.bot.answer_callback_query(**payload)
        elif method == "sendChatAction":
            await self.bot.send_chat_action(**payload)
        elif method == "editMessageReplyMarkup":
            await self.bot.edit_message_reply_markup(**payload)
        else:
            await self.bot.do_api_request(method, api_kwargs=payload)

    @staticmethod
    async def _pace_chat(session: AsyncSession, chat_id: int, interval: timedelta) -> None:
        # Stored, not remembered in memory, so that every worker keeps the same pace.
        next_allowed = utcnow() + interval
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.method.not_in(UNPACED),
                OutboxMessage.not_before < next_allowed,
            )
            .values(not_before=next_allowed)
        )

    @staticmethod
    async def _unreachable(session: AsyncSession, chat_id: int) -> None:
        await session.execute(
            update(Conversation)
            .where(Conversation.channel == "telegram", Conversation.external_id == str(chat_id))
            .values(unreachable_at=utcnow())
        )


def _abandoned(message_id: int, method: str, error: Exception) -> dict[str, Any]:
    """Values that close a message Telegram will never accept, with the reason kept."""
    logger.warning(
        "outbox call abandoned",
        extra={"outbox_id": message_id, "method": method, "error": type(error).__name__},
    )
    return {"sent_at": utcnow(), "last_error": f"{type(error).__name__}: {error}"[:300]}
