"""Processing the inbox: each update once, one chat's updates in order, chats in parallel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversations import ConversationService
from bot.storage.models import Conversation, OutboxMessage, TelegramUpdate
from bot.storage.types import utcnow
from bot.telegram import inbox
from bot.telegram._waiting import wait_for_work
from bot.telegram.inbound import Inbound, read_update
from bot.telegram.outbound import ApiCall, keyboard, reply_calls, step_matches
from flows.i18n import parse_language, text
from flows.messages import Input

logger = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_ATTEMPTS = 5


class UpdateProcessor:
    """Applies pending updates to conversations and queues the replies, atomically."""

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
        # Called when replies were queued, so the sender need not wait for its next check.
        self.on_queued: Callable[[], None] = lambda: None

    async def run(self, stopping: asyncio.Event) -> None:
        """Process until stopping, woken by new updates (and every second, for other workers)."""
        while not stopping.is_set():
            processed = await self.process_pending()
            if processed:
                continue
            await wait_for_work(self.wake, 1.0)

    async def process_pending(self) -> int:
        """Process what can be processed now; the number of updates done."""
        async with self.session_factory() as session:
            ids = await inbox.next_batch(session, self.concurrency)
        if not ids:
            return 0
        results = await asyncio.gather(*(self._process(update_id) for update_id in ids))
        if any(results):
            self.on_queued()
        return sum(results)

    async def _process(self, update_id: int) -> int:
        try:
            async with self.session_factory() as session, session.begin():
                row = await inbox.claim(session, update_id)
                if row is None:
                    return 0
                await self._apply(session, row)
                row.processed_at = utcnow()
                row.attempts += 1
            return 1
        except Exception:
            # Never lose the update: count the failure, and give up only after a few tries.
            logger.exception("update failed", extra={"update_id": update_id})
            async with self.session_factory() as session, session.begin():
                values: dict[str, object] = {"attempts": TelegramUpdate.attempts + 1}
                row = await session.get(TelegramUpdate, update_id)
                if row is not None and row.attempts + 1 >= MAX_ATTEMPTS:
                    values["processed_at"] = utcnow()
                await session.execute(
                    update(TelegramUpdate)
                    .where(TelegramUpdate.update_id == update_id)
                    .values(**values)
                )
            return 0

    async def _apply(self, session: AsyncSession, row: TelegramUpdate) -> None:
        inbound = read_update(row.payload)
        calls: list[ApiCall] = []
        if inbound.callback_query_id:
            calls.append(
                ApiCall("answerCallbackQuery", {"callback_query_id": inbound.callback_query_id})
            )
        chat_id = inbound.chat_id
        if chat_id is None:
            return _queue(session, row.chat_id, calls)
        if inbound.group:
            language = parse_language(inbound.language_code)
            calls.append(
                ApiCall("sendMessage", {"chat_id": chat_id, "text": text("repeat.group", language)})
            )
            return _queue(session, chat_id, calls)
        if inbound.blocked is not None:
            await self._set_reachable(session, chat_id, reachable=not inbound.blocked)
            return _queue(session, chat_id, calls)
        received = await self._button_input(session, inbound, calls)
        if received is not None:
            await self._answer(session, inbound, received, calls)
        _queue(session, chat_id, calls)

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

    async def _set_reachable(self, session: AsyncSession, chat_id: int, *, reachable: bool) -> None:
        await session.execute(
            update(Conversation)
            .where(Conversation.channel == CHANNEL, Conversation.external_id == str(chat_id))
            .values(unreachable_at=None if reachable else utcnow())
        )


def _queue(session: AsyncSession, chat_id: int | None, calls: list[ApiCall]) -> None:
    for call in calls:
        session.add(OutboxMessage(chat_id=chat_id or 0, method=call.method, payload=call.payload))
