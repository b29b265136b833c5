"""Processing the inbox: each update once, one chat's updates in order, chats in parallel."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.channels.telegram.parse import Inbound, read_update
from bot.channels.telegram.render import ApiCall, keyboard, reply_calls, step_matches
from bot.clock import utcnow
from bot.conversations.service import ConversationRow, ConversationService, Found, set_reachable
from bot.messaging import inbox
from bot.messaging.sender import LEASE, Queued
from bot.storage.database import Database, Transaction
from bot.waiting import wait_for_work
from flows.events import Event
from flows.i18n import parse_language, text
from flows.messages import Input
from flows.state import ConversationState

logger = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Accepted:
    """What became of a delivered update."""

    new: bool  # False for a delivery seen before
    # A Bot API call for the webhook's response (Telegram makes it; nobody learns the result).
    webhook_answer: dict[str, Any] | None = None


class UpdateProcessor:
    """Applies updates to conversations and queues the replies, atomically.

    An update is applied as it arrives, in the transaction that stores it (one transaction per
    update, and the webhook's answer waits only for it). One chat's updates go one at a time,
    in arrival order; a scan of the inbox picks up what is left (an update that failed, one
    that arrived before an older one of its chat was done, the backlog after a restart).
    """

    def __init__(
        self, service: ConversationService, database: Database, *, concurrency: int = 8
    ) -> None:
        self.service = service
        self.database = database
        self.concurrency = concurrency
        self.wake = asyncio.Event()
        # Receives the replies a step queued, already leased to this process, to send them.
        self.on_queued: Callable[[list[Queued]], Coroutine[Any, Any, None]] | None = None
        # Adds other pending writes to a step's transaction (the sender's "sent" marks).
        self.also_in_step: Callable[[Transaction], Coroutine[Any, Any, None]] | None = None
        self._chats: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._deliveries: set[asyncio.Task[None]] = set()

    def _chat_lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._chats.get(chat_id)
        if lock is None:
            lock = self._chats[chat_id] = asyncio.Lock()
        return lock

    async def accept(self, update: dict[str, Any], *, webhook: bool = False) -> Accepted:
        """Store an update once and, unless its chat has older ones waiting, apply it.

        It is never lost: should applying fail, it is stored alone for the scan to try again.
        With ``webhook``, the answer to a pressed button is handed back for the webhook's
        response (Telegram makes that call itself) instead of being queued.
        """
        chat_id = inbox.chat_of(update)
        if chat_id is None:
            return await self._accept_without_chat(update, webhook)
        async with self._chat_lock(chat_id):
            try:
                accepted, queued = await self._accept_and_apply(chat_id, update, webhook)
            except Exception:
                logger.exception("update failed", extra={"update_id": update["update_id"]})
                async with self.database.transaction() as tx:
                    new = await inbox.accept(tx, update, processed=False)
                self.wake.set()
                return Accepted(new)
        self._deliver(queued)
        return accepted

    async def _accept_and_apply(
        self, chat_id: int, update: dict[str, Any], webhook: bool
    ) -> tuple[Accepted, list[Queued]]:
        async with self.database.transaction() as tx:
            await tx.lock_chat(chat_id)
            # The chat's conversation is read (and locked) with the update's insert.
            find = self.service.find_query(channel=CHANNEL, external_id=str(chat_id), lock=True)
            taken, conversation = await inbox.accept_in_turn(tx, update, chat_id, then=find)
            if taken is None:
                return Accepted(False), []
            if not taken:
                self.wake.set()  # an older update of the chat goes first
                return Accepted(True), []
            found = Found(ConversationRow.read(conversation) if conversation else None)
            answer, queued = await self._step(tx, update, webhook=webhook, found=found)
            return Accepted(True, answer), queued

    async def _accept_without_chat(self, update: dict[str, Any], webhook: bool) -> Accepted:
        """Remember an update about no chat; a press still gets its answer (inline mode)."""
        inbound = read_update(update)
        if inbound.callback_query_id is None and _forged(update):
            logger.warning(
                "telegram update ignored: malformed", extra={"update_id": update["update_id"]}
            )
        calls = _press_answer(inbound)
        async with self.database.transaction() as tx:
            new = await inbox.accept(tx, update, processed=True)
            if not new or not calls:
                return Accepted(new)
            if webhook:
                return Accepted(True, {"method": calls[0].method, **calls[0].payload})
            queued = await _queue(tx, _presser(update), calls)
        self._deliver(queued)
        return Accepted(True)

    def _deliver(self, queued: list[Queued]) -> None:
        """Send the replies in the background: the webhook answers without waiting for them."""
        if queued and self.on_queued is not None:
            task = asyncio.create_task(self.on_queued(queued))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def drain(self) -> None:
        """Wait for the replies being sent (at shutdown)."""
        if self._deliveries:
            await asyncio.wait(list(self._deliveries))

    async def run(self, stopping: asyncio.Event) -> None:
        """Scan the inbox until stopping: at once when woken, else every second."""
        while not stopping.is_set():
            if await self.process_pending():
                continue
            await wait_for_work(self.wake, 1.0)

    async def process_pending(self) -> int:
        """Process what can be processed now from the inbox; the number of updates done."""
        async with self.database.transaction() as tx:
            ids = await inbox.next_batch(tx, self.concurrency)
            stored = await inbox.payloads(tx, ids) if ids else {}
        if not ids:
            return 0
        results = await asyncio.gather(*(self._process(i, stored[i]) for i in ids if i in stored))
        return sum(results)

    async def _process(self, update_id: int, payload: dict[str, Any]) -> int:
        chat_id = inbox.chat_of(payload)
        try:
            async with self._chat_lock(chat_id or 0), self.database.transaction() as tx:
                if chat_id is not None:
                    await tx.lock_chat(chat_id)
                if not await inbox.claim(tx, update_id):
                    return 0
                _, queued = await self._step(tx, payload)
        except Exception:
            # Never lose the update: count the failure, and give up only after a few tries.
            logger.exception("update failed", extra={"update_id": update_id})
            async with self.database.transaction() as tx:
                if await inbox.count_failure(tx, update_id, max_attempts=MAX_ATTEMPTS):
                    logger.error("update set aside", extra={"update_id": update_id})
            return 0
        self._deliver(queued)
        return 1

    async def _step(
        self,
        tx: Transaction,
        payload: dict[str, Any],
        *,
        webhook: bool = False,
        found: Found | None = None,
    ) -> tuple[dict[str, Any] | None, list[Queued]]:
        """Apply a taken update and queue its calls; a button's answer for the webhook, if asked.

        ``found``: the chat's conversation, when the caller read it already.
        """
        chat, calls = await self._apply(tx, payload, found)
        answer = None
        if webhook and calls and calls[0].method == "answerCallbackQuery":
            answer = {"method": calls[0].method, **calls.pop(0).payload}
        queued = await _queue(tx, chat, calls)
        if self.also_in_step is not None:
            await self.also_in_step(tx)
        return answer, queued

    async def _apply(
        self, tx: Transaction, payload: dict[str, Any], found: Found | None
    ) -> tuple[int, list[ApiCall]]:
        """The step an update causes, and the Bot API calls it needs."""
        inbound = read_update(payload)
        calls = _press_answer(inbound)
        chat_id = inbound.chat_id
        if chat_id is None:
            return 0, calls
        if inbound.group:
            # Once per group: a command there is usually everyone trying the bot in turn.
            if await inbox.first_group_notice(tx, chat_id):
                language = parse_language(inbound.language_code)
                reply = {"chat_id": chat_id, "text": text("repeat.group", language)}
                calls.append(ApiCall("sendMessage", reply))
            return chat_id, calls
        if inbound.blocked is not None:
            await set_reachable(
                tx, channel=CHANNEL, external_id=str(chat_id), reachable=not inbound.blocked
            )
            return chat_id, calls
        if found is not None and found.row is not None and found.row.external_id != str(chat_id):
            found = None  # not this chat's (never expected): read it again
        if inbound.media_group_id is not None and inbound.media_group_id == (
            await inbox.previous_album(tx, chat_id, payload["update_id"])
        ):
            return chat_id, calls  # the album's first part was re-prompted already
        received, found = await self._button_input(tx, inbound, calls, found)
        if received is not None:
            await self._answer(tx, inbound, received, calls, found)
        return chat_id, calls

    async def _button_input(
        self, tx: Transaction, inbound: Inbound, calls: list[ApiCall], found: Found | None
    ) -> tuple[Input | None, Found | None]:
        """Check a pressed button against the current question; toggles only redraw.

        The conversation read for the check is handed on, so the step reads it once.
        """
        if inbound.button_step is None:
            return inbound.received, found
        external_id = str(inbound.chat_id)
        if found is None:
            found = Found(await self.service.find(tx, channel=CHANNEL, external_id=external_id))
        if found.row is None:
            return Input(command="start"), found
        state = ConversationState.model_validate_json(found.row.state)
        if state.step is None or (state.erase_pending and inbound.button_step == ""):
            # The end's "restart" and the erasure question belong to no step.
            return inbound.received, found
        if not step_matches(inbound.button_step, state.step):
            return Input(command="repeat", payload="old_button"), found
        if inbound.toggle_mask is None and inbound.submit_mask is None:
            return inbound.received, found
        # Toggles and multi-select submits need the options, in order.
        peeked = await self.service.peek(tx, channel=CHANNEL, external_id=external_id)
        question = peeked[1][-1].question if peeked else None
        if question is None:
            return Input(command="repeat", payload="old_button"), found
        if inbound.toggle_mask is not None:
            markup = keyboard(question, state.step, state.language, inbound.toggle_mask)
            payload = {"chat_id": inbound.chat_id, "message_id": inbound.message_id}
            calls.append(ApiCall("editMessageReplyMarkup", {**payload, "reply_markup": markup}))
            return None, found
        mask = inbound.submit_mask or 0
        chosen = tuple(c.value for i, c in enumerate(question.choices) if mask >> i & 1)
        return Input(choices=chosen), found

    async def _answer(
        self,
        tx: Transaction,
        inbound: Inbound,
        received: Input,
        calls: list[ApiCall],
        found: Found | None,
    ) -> None:
        assert inbound.chat_id is not None
        reply = await self.service.handle_in(
            tx,
            channel=CHANNEL,
            external_id=str(inbound.chat_id),
            received=received,
            language=inbound.language_code,
            found=found,
        )
        if Event.ERASE_CONFIRMED in reply.events:
            # The person's messages and our replies are erased too; update ids stay for dedup.
            await tx.execute(
                "DELETE FROM outbox_messages WHERE chat_id = :chat_id", {"chat_id": inbound.chat_id}
            )
            await inbox.forget_payloads(tx, inbound.chat_id)
        step = reply.state.step if reply.state else None
        calls.extend(
            reply_calls(
                inbound.chat_id,
                reply.messages,
                step=step,
                language=reply.language,
                remove_keyboard=reply.answered_kind == "phone",
                typing=Event.ORIENTATION_READY in reply.events,
            )
        )


def _press_answer(inbound: Inbound) -> list[ApiCall]:
    """The answer to a press: every press is answered, or its button keeps spinning.

    A press outside a private chat (in a group, or on a message sent in inline mode) has no
    conversation to go on: its answer says where to write.
    """
    if inbound.callback_query_id is None:
        return []
    answer: dict[str, Any] = {"callback_query_id": inbound.callback_query_id}
    if inbound.chat_id is None:
        answer["text"] = text("telegram.press_elsewhere", parse_language(inbound.language_code))
    return [ApiCall("answerCallbackQuery", answer)]


def _forged(update: dict[str, Any]) -> bool:
    """Whether an update without a chat should have had one (or a press, its id)."""
    keys = ("message", "edited_message", "my_chat_member", "callback_query")
    return any(key in update for key in keys)


def _presser(update: dict[str, Any]) -> int:
    """The outbox key of a press without a chat: the person's id (their private chat's)."""
    query = update.get("callback_query")
    sender = query.get("from") if isinstance(query, dict) else None
    user_id = sender.get("id") if isinstance(sender, dict) else None
    return user_id if isinstance(user_id, int) else 0


async def _queue(tx: Transaction, chat_id: int, calls: list[ApiCall]) -> list[Queued]:
    """Store the calls in the outbox, leased to this process, which sends them right away."""
    if not calls:
        return []
    now = utcnow()
    params: dict[str, Any] = {"chat_id": chat_id, "now": now, "lease_until": now + LEASE}
    rows = []
    for n, call in enumerate(calls):
        rows.append(f"(:chat_id, :method{n}, :payload{n}, :now, :now, 0, :lease_until)")
        params |= {f"method{n}": call.method, f"payload{n}": call.payload}
    inserted = await tx.fetch(
        "INSERT INTO outbox_messages (chat_id, method, payload, created_at, not_before,"
        " attempts, lease_until) VALUES " + ", ".join(rows) + " RETURNING id",
        params,
        # The step's own writes (conversation, transcript) travel in this statement.
        independent=True,
    )
    # Ids are handed out in the order of the rows; RETURNING may list them in any order.
    ids = sorted(row["id"] for row in inserted)
    lease_until = params["lease_until"]
    return [
        Queued(i, chat_id, c.method, c.payload, lease_until)
        for i, c in zip(ids, calls, strict=True)
    ]
