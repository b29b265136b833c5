"""Delivering the outbox: in order per chat, within the messenger's limits, never dropping one.

A step's replies are sent at once by the process that made them (they are inserted leased to
it); the loop here sends whatever is left: retries after a 429 or a network error, expired
leases of a process that died, a backlog after a restart, calls queued outside a step, and a
step's replies queued while enough are being sent already (a burst: they wait as rows). One
chat's messages go one at a time, about a second apart, whichever path sends them; a message
is sent only by the holder of its lease, checked again before the call when the lease may have
run out while it waited.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

from bot.conversations.repository import set_reachable
from bot.keyed_locks import KeyedLocks
from bot.messaging import outbox
from bot.messaging.chats_behind import ChatsBehind
from bot.messaging.messenger import Messenger, Refused, SlowDown, Unreachable
from bot.messaging.outbox import (
    LEASE,
    Abandoned,
    Message,
    Outcome,
    Released,
    RetryLater,
    Sent,
    SentMarks,
)
from bot.messaging.pace import ChatPace, Clock, Pace
from bot.storage.database import Database
from bot.waiting import wait_for_work

logger = logging.getLogger(__name__)
PER_CHAT_INTERVAL = timedelta(seconds=1)  # Telegram: about one message a second in a chat
MAX_ATTEMPTS = 12
# A message that waited its turn until less than this was left of its lease has its lease
# renewed (or learns it lost it) before the call: the call and its "sent" mark fit in this.
LEASE_MARGIN = timedelta(seconds=30)
# Delivered replies are marked sent by the next step's transaction (SentMarks), or after this
# many seconds when no step comes.
MARK_SENT_EVERY = 0.5


class OutboxSender:
    """Sends queued calls through one messenger, in order per chat, at its pace."""

    def __init__(
        self,
        database: Database,
        messenger: Messenger,
        marks: SentMarks,
        *,
        overall_rate: float = 30.0,
        per_chat_interval: timedelta = PER_CHAT_INTERVAL,
        batch: int = 30,
        clock: Clock | None = None,
    ) -> None:
        self.database = database
        self.messenger = messenger
        self.marks = marks
        self.clock = clock or Clock()
        self.pace = Pace(overall_rate, clock=self.clock)
        self.chat_pace = ChatPace(per_chat_interval.total_seconds(), self.clock)
        self.batch = batch
        self.wake = asyncio.Event()
        # One chat's sends take turns (first come, first served), whichever path makes them:
        # the step's replies, then the next step's, each waiting for the chat's next slot.
        self._turns: KeyedLocks[int] = KeyedLocks()
        # Chats with a message left to the loop (a retry, a backlog): until it is sent, the
        # chat's next replies go through the loop too, after it.
        self._behind = ChatsBehind()
        self._flushing: asyncio.Task[None] | None = None

    async def deliver(self, messages: list[Message]) -> None:
        """Send a step's replies now, in order; what fails is left to the loop, in order.

        Steps of one chat call this in the order of their updates, and take turns in that
        order: a burst of updates gets its replies in order, a second apart.
        """
        chat_id = messages[0].chat_id
        async with self._turns[chat_id]:
            if self._behind.may_have_older(chat_id) and await self._older_waiting(messages[0]):
                # An older reply of the chat waits for the loop: these go after it, by the loop.
                outcomes: list[tuple[Message, Outcome]] = [(m, Released()) for m in messages]
            else:
                self._behind.caught_up(chat_id)
                outcomes = await self._deliver_in_turn(messages)
            if all(isinstance(outcome, Sent) for _, outcome in outcomes):
                self._mark_sent_soon([message.id for message, _ in outcomes])
                return
            # Written before the turn passes on: the next step must see these waiting. Named
            # after: the loop, finding nothing left, forgets only chats named before it looked.
            try:
                await self._record(outcomes)
            finally:
                self._behind.add(chat_id)
        self.wake.set()

    def left_to_loop(self, chat_id: int) -> None:
        """A step's replies were queued for the loop (a backlog): the chat's next ones follow."""
        self._behind.add(chat_id)
        self.wake.set()

    async def _deliver_in_turn(self, messages: list[Message]) -> list[tuple[Message, Outcome]]:
        outcomes: list[tuple[Message, Outcome]] = []
        for index, message in enumerate(messages):
            outcome = await self._attempt(message, tries=1)
            if outcome is None:
                # Another sender took it (we waited past the lease): it sends it and the
                # rest, in order, as their leases run out. Nothing of ours to write.
                break
            outcomes.append((message, outcome))
            if not isinstance(outcome, Sent | Abandoned):
                # Keep the chat's order: the rest waits for the loop, after this one.
                outcomes += [(later, Released()) for later in messages[index + 1 :]]
                break
        return outcomes

    async def _older_waiting(self, first: Message) -> bool:
        """Whether an older message of the chat is still to be sent (not one sent, unmarked)."""
        older = await outbox.unsent_before(self.database, first)
        return any(message_id not in self.marks for message_id in older)

    def _mark_sent_soon(self, ids: list[int]) -> None:
        self.marks.add(ids)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_after(MARK_SENT_EVERY))

    async def _flush_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.flush()

    async def flush(self) -> None:
        """Mark as sent what was delivered and not yet marked (also called at shutdown)."""
        await self.marks.flush(now=self.clock.utcnow())

    async def run(self, stopping: asyncio.Event) -> None:
        """Send what is left until stopping; woken on failures, or when a message falls due."""
        while not stopping.is_set():
            seen_at = self._behind.generation
            if await self.send_pending():
                continue
            await self._forget_chats_behind(seen_at)
            await wait_for_work(self.wake, await self._seconds_to_next_due())

    async def send_pending(self) -> int:
        """Send what is due now and leased to nobody; the number of calls made."""
        ids = await outbox.due_ids(
            self.database, self.messenger.channel, now=self.clock.utcnow(), limit=self.batch
        )
        results = await asyncio.gather(*(self._send(message_id) for message_id in ids))
        return sum(results)

    async def _forget_chats_behind(self, seen_at: int) -> None:
        """Nothing left for the loop: no chat is behind one of its messages any more."""
        if self._behind.remembers_any() and not await outbox.any_left(
            self.database, self.messenger.channel, now=self.clock.utcnow()
        ):
            self._behind.forget_all(seen_at=seen_at)

    async def _seconds_to_next_due(self) -> float:
        """How long until a retried message falls due (at most a second).

        Messages leased to a sender are in flight and not this loop's business; a failure
        wakes the loop at once.
        """
        now = self.clock.utcnow()
        soonest = await outbox.next_due(self.database, self.messenger.channel, now=now)
        if soonest is None:
            return 1.0
        return min(max((soonest - now).total_seconds(), 0.01), 1.0)

    async def _send(self, message_id: int) -> int:
        message = await outbox.claim(self.database, message_id, now=self.clock.utcnow())
        if message is None:
            return 0
        async with self._turns[message.chat_id]:
            outcome = await self._attempt(message, tries=message.attempts)
        if outcome is None:
            return 0
        try:
            await self._record([(message, outcome)])
        finally:
            if not isinstance(outcome, Sent | Abandoned):
                self._behind.add(message.chat_id)
        return 1 if isinstance(outcome, Sent) else 0

    async def _still_ours(self, message: Message) -> Message | None:
        """The message with a lease long enough for the call, or None if another sender took it.

        Free when plenty of the lease is left (nobody may take it before it runs out); else
        one statement renews it, on the condition that nobody claimed the row meanwhile.
        """
        now = self.clock.utcnow()
        if message.lease_until - now >= LEASE_MARGIN:
            return message
        if await outbox.renew(self.database, message, now=now):
            return replace(message, lease_until=now + LEASE)
        return None

    async def _attempt(self, message: Message, *, tries: int) -> Outcome | None:
        """Make one call (the chat's turn held) and say what became of it. None when the
        lease was lost while waiting: nothing was sent.
        """
        paced = message.method not in self.messenger.unpaced
        if paced:
            await self.chat_pace.wait(message.chat_id)
            # The overall limit is about messages; answering a press is not one.
            await self.pace.wait()
        if await self._still_ours(message) is None:
            logger.info(
                "outbox message left to the sender that took it", extra={"outbox_id": message.id}
            )
            return None
        try:
            await self.messenger.call(message.method, message.payload)
        except SlowDown as error:
            if error.chat_only:
                self.chat_pace.pause(message.chat_id, error.seconds)
            else:
                self.pace.pause(error.seconds)
            return RetryLater(self.clock.utcnow() + timedelta(seconds=error.seconds))
        except Refused as error:
            # Blocked by the person: stop writing to them, keep their data as it is. Else the
            # call itself is wrong for good (a press answered too late).
            return self._abandoned(message, error, unreachable=error.blocked)
        except Unreachable as error:
            if tries >= MAX_ATTEMPTS:
                return self._abandoned(message, error)
            backoff = timedelta(seconds=min(2 ** max(tries, 1), 300))
            return RetryLater(self.clock.utcnow() + backoff)
        if paced:
            self.chat_pace.sent(message.chat_id)
        return Sent(self.clock.utcnow())

    def _abandoned(
        self, message: Message, error: Exception, *, unreachable: bool = False
    ) -> Abandoned:
        logger.warning(
            "outbox call abandoned",
            # The messenger's error kind only: its text may quote what was sent.
            extra={"outbox_id": message.id, "method": message.method, "error": _kind(error)},
        )
        return Abandoned(self.clock.utcnow(), str(error)[:300], unreachable)

    async def _record(self, outcomes: list[tuple[Message, Outcome]]) -> None:
        """Write the outcomes in one transaction (the sent ones in one statement)."""
        sent = [message.id for message, outcome in outcomes if isinstance(outcome, Sent)]
        others = [(m, outcome) for m, outcome in outcomes if not isinstance(outcome, Sent)]
        async with self.database.transaction() as tx:
            await outbox.mark_sent(tx, sent, now=self.clock.utcnow())
            await outbox.record(tx, others)
            for message, outcome in others:
                if isinstance(outcome, Abandoned) and outcome.unreachable:
                    await set_reachable(
                        tx,
                        channel=self.messenger.channel,
                        external_id=str(message.chat_id),
                        reachable=False,
                        now=self.clock.utcnow(),
                    )
                    break


def _kind(error: Exception) -> str:
    """The name of the messenger client's error (the adapter raises from it), else ours."""
    cause = error.__cause__
    return type(cause if cause is not None else error).__name__
