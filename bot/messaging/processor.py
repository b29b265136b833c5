"""Processing the inbox: each update once, one chat's updates in order, chats in parallel.

Written once for any messenger: a channel's ``Steps`` says which chat an update is about and
what step it causes (bot/channels/telegram/steps.py); storing, ordering, retrying, setting
aside, queuing the replies and handing them to the sender happen here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.clock import utcnow
from bot.conversations import repository
from bot.conversations.repository import ConversationRow, Found
from bot.keyed_locks import KeyedLocks
from bot.messaging import inbox, outbox
from bot.messaging.inbox import Delivery
from bot.messaging.outbox import ApiCall, Message, SentMarks
from bot.storage.database import Database, Transaction
from bot.waiting import wait_for_work

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# Steps whose replies are being sent at once, at most; past this the replies wait in the outbox
# for the sender's loop (bounded too), so a backlog costs rows, not a task per step.
DELIVERING_AT_MOST = 60


@dataclass(frozen=True)
class Accepted:
    """What became of a delivered update."""

    new: bool  # False for a delivery seen before
    # An API call for the webhook's response (the messenger makes it; nobody learns the result).
    webhook_answer: dict[str, Any] | None = None


@dataclass
class Step:
    """What a channel's step asks for: calls to queue for a chat, one of them maybe answered in
    the webhook's response instead."""

    chat_id: int
    calls: list[ApiCall] = field(default_factory=list)
    webhook_answer: dict[str, Any] | None = None
    # The person's data was erased: what they sent and what we wrote to them goes too.
    erased: bool = False


class Steps(Protocol):
    """A messenger's side of the inbox: reading its updates, and the step each one causes."""

    channel: str

    def key(self, update: dict[str, Any]) -> tuple[str, int]:
        """The update's id at its messenger, and its position among its chat's updates."""

    def chat_of(self, update: dict[str, Any]) -> int | None:
        """The chat an update is about; None when it is about none (or forged)."""

    async def step(
        self, tx: Transaction, update: dict[str, Any], found: Found | None, *, webhook: bool
    ) -> Step:
        """Apply a taken update; ``found``: its chat's conversation when read already."""

    async def without_chat(self, update: dict[str, Any], *, webhook: bool) -> Step | None:
        """What an update about no chat needs, if anything (a press in inline mode)."""


Deliver = Callable[[list[Message]], Coroutine[Any, Any, None]]


class ReplySender(Protocol):
    """Where a step's replies go after its commit (bot/messaging/sender.py)."""

    async def deliver(self, messages: list[Message]) -> None:
        """Send replies leased to this process, now, in order."""

    def left_to_loop(self, chat_id: int) -> None:
        """A chat's replies were queued for the loop: its next ones must go after them."""


@dataclass(frozen=True)
class Queued:
    """A step's replies once committed: leased to be sent now, or left to the sender's loop."""

    chat_id: int
    leased: list[Message]
    left_to_loop: bool = False


class InboxProcessor:
    """Applies updates to conversations and queues the replies, atomically.

    An update is applied as it arrives, in the transaction that stores it (one transaction per
    update, and the webhook's answer waits only for it). One chat's updates go one at a time,
    in arrival order; a scan of the inbox picks up what is left (an update that failed, one
    that arrived before an older one of its chat was done, the backlog after a restart).

    ``sender`` sends a step's replies, already leased to this process, after the commit; while
    ``delivering_at_most`` steps' replies are being sent, the next ones are queued unleased for
    the sender's loop instead. ``marks`` are the "sent" marks of earlier replies, written in the
    next step's transaction.
    """

    def __init__(
        self,
        database: Database,
        steps: Steps,
        *,
        sender: ReplySender | None,
        marks: SentMarks,
        concurrency: int = 8,
        delivering_at_most: int = DELIVERING_AT_MOST,
    ) -> None:
        self.database = database
        self.steps = steps
        self.sender = sender
        # None: the replies stay queued (the step-cost benchmark measures the step alone).
        self.deliver: Deliver | None = sender.deliver if sender is not None else None
        self.marks = marks
        self.concurrency = concurrency
        self.delivering_at_most = delivering_at_most
        self.wake = asyncio.Event()
        self._chats: KeyedLocks[int] = KeyedLocks()
        self._deliveries: set[asyncio.Task[None]] = set()

    async def accept(self, update: dict[str, Any], *, webhook: bool = False) -> Accepted:
        """Store an update once and, unless its chat has older ones waiting, apply it.

        It is never lost: should applying fail, it is stored alone for the scan to try again.
        With ``webhook``, a call the webhook's response can carry (Telegram: the answer to a
        pressed button) is handed back instead of being queued.
        """
        delivery = self._delivery(update)
        chat_id = self.steps.chat_of(update)
        if chat_id is None:
            return await self._accept_without_chat(delivery, webhook)
        async with self._chats[chat_id]:
            try:
                accepted, queued = await self._accept_and_apply(chat_id, delivery, webhook)
            except Exception:
                logger.exception("update failed", extra=_logged(delivery.channel, delivery.id))
                async with self.database.transaction() as tx:
                    new = await inbox.accept(tx, delivery, chat_id, processed=False)
                self.wake.set()
                return Accepted(new)
        self._deliver(queued)
        return accepted

    def _delivery(self, update: dict[str, Any]) -> Delivery:
        delivery_id, position = self.steps.key(update)
        return Delivery(self.steps.channel, delivery_id, position, update)

    async def _accept_and_apply(
        self, chat_id: int, delivery: Delivery, webhook: bool
    ) -> tuple[Accepted, Queued | None]:
        async with self.database.transaction() as tx:
            await tx.lock_chat(chat_id)
            # The chat's conversation is read (and locked) with the update's insert.
            find = repository.find_statement(
                tx, channel=self.steps.channel, external_id=str(chat_id), lock=True
            )
            taken, conversation = await inbox.accept_in_turn(tx, delivery, chat_id, then=find)
            if taken is None:
                return Accepted(False), None
            if not taken:
                self.wake.set()  # an older update of the chat goes first
                return Accepted(True), None
            found = Found(ConversationRow.read(conversation) if conversation else None)
            step = await self.steps.step(tx, delivery.payload, found, webhook=webhook)
            queued = await self._queue(tx, step)
            return Accepted(True, step.webhook_answer), queued

    async def _accept_without_chat(self, delivery: Delivery, webhook: bool) -> Accepted:
        """Remember an update about no chat; its channel may still answer it."""
        step = await self.steps.without_chat(delivery.payload, webhook=webhook)
        async with self.database.transaction() as tx:
            new = await inbox.accept(tx, delivery, None, processed=True)
            if not new or step is None:
                return Accepted(new)
            queued = await self._queue(tx, step)
        self._deliver(queued)
        return Accepted(True, step.webhook_answer)

    async def _queue(self, tx: Transaction, step: Step) -> Queued:
        """Queue a step's calls leased to this process; earlier replies' marks go along.

        After an erasure, the chat's stored messages go first (ids stay, to recognise a retried
        delivery): the step's own calls, the goodbye, are still sent. In a backlog (as many
        steps' replies being sent as allowed) the calls are queued for the sender's loop.
        """
        now = utcnow()
        channel = self.steps.channel
        if step.erased:
            await outbox.forget_chat(tx, channel, step.chat_id)
            await inbox.forget_payloads(tx, channel, step.chat_id)
        if step.calls and self.deliver is not None and self._backlogged():
            await outbox.enqueue_for_loop(tx, channel, step.chat_id, step.calls, now=now)
            queued = Queued(step.chat_id, [], left_to_loop=True)
        else:
            leased = await outbox.enqueue_leased(tx, channel, step.chat_id, step.calls, now=now)
            queued = Queued(step.chat_id, leased)
        await self.marks.write_in(tx, now=now)
        return queued

    def _backlogged(self) -> bool:
        """Whether enough replies are being sent already: more tasks would only wait in memory.

        Checked before the commit, so steps committing together may pass the bound by a few
        (at most the steps running at once: this processor's scan and the webhook's requests,
        which the database's connections bound).
        """
        return len(self._deliveries) >= self.delivering_at_most

    def _deliver(self, queued: Queued | None) -> None:
        """Send the replies in the background: the webhook answers without waiting for them."""
        if queued is None:
            return
        if queued.left_to_loop:
            # Told after the commit: the loop sees the rows whenever it hears of the chat.
            if self.sender is not None:
                self.sender.left_to_loop(queued.chat_id)
        elif queued.leased and self.deliver is not None:
            task = asyncio.create_task(self.deliver(queued.leased))
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
        channel = self.steps.channel
        async with self.database.transaction() as tx:
            ids = await inbox.next_batch(tx, channel, self.concurrency)
            stored = await inbox.payloads(tx, channel, ids) if ids else {}
        if not ids:
            return 0
        results = await asyncio.gather(*(self._process(stored[i]) for i in ids if i in stored))
        return sum(results)

    async def _process(self, delivery: Delivery) -> int:
        chat_id = self.steps.chat_of(delivery.payload)
        channel = delivery.channel
        try:
            async with self._chats[chat_id or 0], self.database.transaction() as tx:
                if chat_id is not None:
                    await tx.lock_chat(chat_id)
                if not await inbox.claim(tx, channel, delivery.id):
                    return 0
                step = await self.steps.step(tx, delivery.payload, None, webhook=False)
                queued = await self._queue(tx, step)
        except Exception:
            # Never lose the update: count the failure, and give up only after a few tries.
            logger.exception("update failed", extra=_logged(channel, delivery.id))
            async with self.database.transaction() as tx:
                failed = await inbox.count_failure(
                    tx, channel, delivery.id, max_attempts=MAX_ATTEMPTS
                )
                if failed:
                    logger.error("update set aside", extra=_logged(channel, delivery.id))
            return 0
        self._deliver(queued)
        return 1


def _logged(channel: str, delivery_id: str) -> dict[str, str]:
    """What a log line says of a delivery: the messenger's id of it, never its content."""
    return {"channel": channel, "update_id": delivery_id}
