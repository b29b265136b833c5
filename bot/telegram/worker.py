"""Processing the inbox: each update once, one chat's updates in order, chats in parallel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversations import ConversationService, set_reachable
from bot.storage.models import OutboxMessage, TelegramUpdate
from bot.storage.types import utcnow
from bot.telegram import inbox
from bot.telegram._waiting import wait_for_work
from bot.telegram.inbound import Inbound, read_update
from bot.telegram.outbound import ApiCall, keyboard, reply_calls, step_matches
from bot.telegram.sender import LEASE, Queued
from flows.i18n import parse_language, text
from flows.messages import Input

logger = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_ATTEMPTS = 5


class UpdateProcessor:
    """Applies pending updates to conversations and queues the replies, atomically.

    Updates this process received are handed over in memory and processed at once, one chat's
    in arrival order; a scan of the inbox picks up the rest (another worker's, a failed try,
    the backlog after a restart).
    """

    def __init__(
        self,
        service: ConversationService,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        concurrency: int = 8,
    ) -> None:
        self.service = service
        self.session_factory = session_factory
        self.concurrency = concurrency
        self.wake = asyncio.Event()
        # Receives the replies a step queued, already leased to this process, to send them.
        self.on_queued: Callable[[list[Queued]], Awaitable[None]] | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._chains: dict[int, asyncio.Task[None]] = {}

    def submit(self, update_id: int, chat_id: int, payload: dict[str, Any]) -> None:
        """Process an update this process just stored, after the chat's previous one."""
        previous = self._chains.get(chat_id)
        task = asyncio.create_task(self._after(previous, update_id, payload))
        self._chains[chat_id] = task
        task.add_done_callback(lambda done: self._forget_chain(chat_id, done))

    def _forget_chain(self, chat_id: int, task: asyncio.Task[None]) -> None:
        if self._chains.get(chat_id) is task:
            del self._chains[chat_id]

    async def _after(
        self, previous: asyncio.Task[None] | None, update_id: int, payload: dict[str, Any]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        async with self._slots:
            if not await self._process(update_id, payload):
                self.wake.set()  # blocked or failed: the scan will come back to it

    async def drain(self) -> None:
        """Wait for the updates handed over in memory (at shutdown)."""
        if self._chains:
            await asyncio.wait(list(self._chains.values()))

    async def run(self, stopping: asyncio.Event) -> None:
        """Scan the inbox until stopping: at once when woken, else every second."""
        while not stopping.is_set():
            if await self.process_pending():
                continue
            await wait_for_work(self.wake, 1.0)

    async def process_pending(self) -> int:
        """Process what can be processed now from the inbox; the number of updates done."""
        async with self.session_factory() as session:
            ids = await inbox.next_batch(session, self.concurrency)
            stored = await inbox.payloads(session, ids) if ids else {}
        if not ids:
            return 0
        results = await asyncio.gather(*(self._process(i, stored[i]) for i in ids if i in stored))
        return sum(results)

    async def _process(self, update_id: int, payload: dict[str, Any]) -> int:
        try:
            async with self.session_factory() as session, session.begin():
                if not await inbox.claim(session, update_id):
                    return 0
                chat_id, calls = await self._apply(session, payload)
                queued = await _queue(session, chat_id, calls)
        except Exception:
            # Never lose the update: count the failure, and give up only after a few tries.
            logger.exception("update failed", extra={"update_id": update_id})
            await self._count_failure(update_id)
            return 0
        if queued and self.on_queued is not None:
            await self.on_queued(queued)
        return 1

    async def _count_failure(self, update_id: int) -> None:
        async with self.session_factory() as session, session.begin():
            row = await session.get(TelegramUpdate, update_id)
            if row is None:
                return
            row.attempts += 1
            if row.attempts >= MAX_ATTEMPTS:
                row.processed_at = utcnow()
                logger.error("update set aside", extra={"update_id": update_id})

    async def _apply(
        self, session: AsyncSession, payload: dict[str, Any]
    ) -> tuple[int, list[ApiCall]]:
        """The step an update causes, and the Bot API calls it needs."""
        inbound = read_update(payload)
        calls: list[ApiCall] = []
        if inbound.callback_query_id:
            calls.append(
                ApiCall("answerCallbackQuery", {"callback_query_id": inbound.callback_query_id})
            )
        chat_id = inbound.chat_id
        if chat_id is None:
            return 0, calls
        if inbound.group:
            language = parse_language(inbound.language_code)
            calls.append(
                ApiCall("sendMessage", {"chat_id": chat_id, "text": text("repeat.group", language)})
            )
            return chat_id, calls
        if inbound.blocked is not None:
            await set_reachable(
                session, channel=CHANNEL, external_id=str(chat_id), reachable=not inbound.blocked
            )
            return chat_id, calls
        received = await self._button_input(session, inbound, calls)
        if received is not None:
            await self._answer(session, inbound, received, calls)
        return chat_id, calls

    async def _button_input(
        self, session: AsyncSession, inbound: Inbound, calls: list[ApiCall]
    ) -> Input | None:
        """Check a pressed button against the current question; toggles only redraw."""
        if inbound.button_step is None:
            return inbound.received
        external_id = str(inbound.chat_id)
        state = await self.service.current_state(session, channel=CHANNEL, external_id=external_id)
        if state is None:
            return Input(command="start")
        if state.step is None or (state.erase_pending and inbound.button_step == ""):
            # The end's "restart" and the erasure question belong to no step.
            return inbound.received
        if not step_matches(inbound.button_step, state.step):
            return Input(command="repeat", payload="old_button")
        if inbound.toggle_mask is None and inbound.submit_mask is None:
            return inbound.received
        # Toggles and multi-select submits need the options, in order.
        peeked = await self.service.peek(session, channel=CHANNEL, external_id=external_id)
        question = peeked[1][-1].question if peeked else None
        if question is None:
            return Input(command="repeat", payload="old_button")
        if inbound.toggle_mask is not None:
            markup = keyboard(question, state.step, state.language, inbound.toggle_mask)
            payload = {"chat_id": inbound.chat_id, "message_id": inbound.message_id}
            calls.append(ApiCall("editMessageReplyMarkup", {**payload, "reply_markup": markup}))
            return None
        mask = inbound.submit_mask or 0
        return Input(
            choices=tuple(c.value for i, c in enumerate(question.choices) if mask >> i & 1)
        )

    async def _answer(
        self, session: AsyncSession, inbound: Inbound, received: Input, calls: list[ApiCall]
    ) -> None:
        assert inbound.chat_id is not None
        reply = await self.service.handle_in(
            session,
            channel=CHANNEL,
            external_id=str(inbound.chat_id),
            received=received,
            language=inbound.language_code,
        )
        if "erase_confirmed" in reply.events:
            # The person's messages and our replies are erased too; update ids stay for dedup.
            await session.execute(
                delete(OutboxMessage).where(OutboxMessage.chat_id == inbound.chat_id)
            )
            await session.execute(
                update(TelegramUpdate)
                .where(TelegramUpdate.chat_id == inbound.chat_id)
                .values(payload={})
            )
        step = reply.state.step if reply.state else None
        calls.extend(
            reply_calls(
                inbound.chat_id,
                reply.messages,
                step=step,
                language=reply.language,
                remove_keyboard=reply.answered_kind == "phone",
                typing="orientation_ready" in reply.events,
            )
        )


async def _queue(session: AsyncSession, chat_id: int, calls: list[ApiCall]) -> list[Queued]:
    """Store the calls in the outbox, leased to this process, which sends them right away."""
    if not calls:
        return []
    now = utcnow()
    rows = [
        {
            "chat_id": chat_id,
            "method": call.method,
            "payload": call.payload,
            "created_at": now,
            "not_before": now,
            "attempts": 0,
            "lease_until": now + LEASE,
        }
        for call in calls
    ]
    ids = (await session.scalars(insert(OutboxMessage).returning(OutboxMessage.id), rows)).all()
    return [Queued(i, chat_id, c.method, c.payload) for i, c in zip(ids, calls, strict=True)]
