"""Delivering the outbox: in order per chat, within Telegram's limits, never dropping a message.

A step's replies are sent at once by the process that made them (they are inserted leased to
it); the loop here sends whatever is left: retries after 429 or network errors, expired
leases of a process that died, a backlog after a restart. One chat's messages go one at a
time, about a second apart, whichever path sends them; a message is sent only by the holder of
its lease, checked again before the call when the lease may have run out while it waited.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
import weakref
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.warnings import PTBUserWarning

from bot.clock import utcnow
from bot.conversations.service import set_reachable
from bot.storage.database import Database, Transaction
from bot.storage.values import as_datetime, as_json
from bot.waiting import wait_for_work

logger = logging.getLogger(__name__)
# do_api_request suggests the typed method for a method PTB knows, on every call: they are
# exactly what _call avoids (see there). pyproject.toml lets the tests ignore it too.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.", category=PTBUserWarning, module=__name__
)
PER_CHAT_INTERVAL = timedelta(seconds=1)  # Telegram: about one message a second in a chat
MAX_ATTEMPTS = 12
# Long enough for Telegram's slowest answer (15 s timeout); a crashed sender's lease expires.
LEASE = timedelta(seconds=60)
# A message that waited its turn until less than this was left of its lease has its lease
# renewed (or learns it lost it) before the call: the call and its "sent" mark fit in this.
LEASE_MARGIN = timedelta(seconds=30)
# Chats whose next send time is remembered before the past ones are forgotten.
MAX_REMEMBERED_CHATS = 10_000
# Delivered replies are marked sent by the next step's transaction (see mark_sent_in), or after
# this many seconds when no step comes.
MARK_SENT_EVERY = 0.5
# Calls that are not messages in the chat and so not held to the per-chat pace.
UNPACED = frozenset({"answerCallbackQuery", "sendChatAction", "editMessageReplyMarkup"})
# Free to send: not sent, not leased (or its lease ran out).
_UNSENT_FREE = "sent_at IS NULL AND (lease_until IS NULL OR lease_until < :now)"
# A message waits while an older message of its chat is still unsent.
_NO_EARLIER_UNSENT = (
    "NOT EXISTS (SELECT 1 FROM outbox_messages earlier WHERE earlier.sent_at IS NULL"
    " AND earlier.chat_id = outbox_messages.chat_id AND earlier.id < outbox_messages.id)"
)


@dataclass(frozen=True)
class Queued:
    """An outbox row this process holds the lease of.

    ``attempts`` is the row's count when this process took the lease: every claim raises it,
    so an unchanged count proves nobody took the row since.
    """

    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    lease_until: datetime
    attempts: int = 0


class Clock:
    """The sender's time: real here; tests pass one they move by hand."""

    def monotonic(self) -> float:
        return time.monotonic()

    def utcnow(self) -> datetime:
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Pace:
    """At most ``rate`` calls in any one-second window from this process (Telegram: ~30).

    A window rather than even spacing: replies to different people arriving together go out
    together, and only a real burst waits.
    """

    def __init__(self, rate: float, *, clock: Clock | None = None) -> None:
        self.rate = max(int(rate), 1)
        self.clock = clock or Clock()
        self.sent: deque[float] = deque()
        self.paused_until = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = self.clock.monotonic()
                while self.sent and now - self.sent[0] >= 1.0:
                    self.sent.popleft()
                delay = max(self.paused_until - now, 0.0)
                if len(self.sent) >= self.rate:
                    delay = max(delay, 1.0 - (now - self.sent[0]))
                if delay <= 0:
                    self.sent.append(now)
                    return
                await self.clock.sleep(delay)

    def pause(self, seconds: float) -> None:
        """Telegram asked us to slow down: nobody sends before then."""
        self.paused_until = max(self.paused_until, self.clock.monotonic() + seconds)


class OutboxSender:
    """Sends queued Bot API calls with the real python-telegram-bot client."""

    def __init__(
        self,
        database: Database,
        bot: Bot,
        *,
        overall_rate: float = 30.0,
        per_chat_interval: timedelta = PER_CHAT_INTERVAL,
        batch: int = 30,
        clock: Clock | None = None,
    ) -> None:
        self.database = database
        self.bot = bot
        self.clock = clock or Clock()
        self.pace = Pace(overall_rate, clock=self.clock)
        self.per_chat_interval = per_chat_interval
        self.batch = batch
        self.wake = asyncio.Event()
        # One chat's sends take turns (first come, first served), whichever path makes them:
        # the step's replies, then the next step's, each waiting for the chat's next slot.
        self._turns: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        # Chats with a message this process left to the loop (a retry): until it is sent, the
        # chat's next replies go through the loop too, after it.
        self._behind: set[int] = set()
        # When each chat may next get a message from this process (set under its turn).
        self._chat_ready: dict[int, float] = {}
        self._sent_ids: list[int] = []
        self._flushing: asyncio.Task[None] | None = None

    def _turn(self, chat_id: int) -> asyncio.Lock:
        lock = self._turns.get(chat_id)
        if lock is None:
            lock = self._turns[chat_id] = asyncio.Lock()
        return lock

    async def deliver(self, queued: list[Queued]) -> None:
        """Send a step's replies now, in order; what fails is left to the loop, in order.

        Steps of one chat call this in the order of their updates, and take turns in that
        order: a burst of updates gets its replies in order, a second apart.
        """
        chat_id = queued[0].chat_id
        outcomes: list[tuple[Queued, dict[str, Any], bool]] = []
        async with self._turn(chat_id):
            if chat_id in self._behind and await self._older_waiting(queued[0]):
                # An older reply of the chat waits for its retry: these go after it, by the loop.
                outcomes = [(item, {"lease_until": None}, False) for item in queued]
            else:
                self._behind.discard(chat_id)
                outcomes = await self._deliver_in_turn(queued)
            if all(set(values) == {"lease_until", "sent_at"} for _, values, _ in outcomes):
                self._mark_sent_soon([item.id for item, _, _ in outcomes])
                return
            if len(self._behind) >= MAX_REMEMBERED_CHATS:
                self._behind.clear()  # bounded memory; at worst an order slip after a retry
            self._behind.add(chat_id)
            # Written before the turn passes on: the next step must see these waiting.
            await self._record(outcomes, chat_id=chat_id)
        self.wake.set()

    async def _deliver_in_turn(
        self, queued: list[Queued]
    ) -> list[tuple[Queued, dict[str, Any], bool]]:
        outcomes: list[tuple[Queued, dict[str, Any], bool]] = []
        for index, item in enumerate(queued):
            attempt = await self._attempt(item, tries=1)
            if attempt is None:
                # Another sender took it (we waited past the lease): it sends it and the
                # rest, in order, as their leases run out. Nothing of ours to write.
                break
            values, unreachable = attempt
            outcomes.append((item, values, unreachable))
            if "sent_at" not in values:
                # Keep the chat's order: the rest waits for the loop, after this one.
                outcomes += [(later, {"lease_until": None}, False) for later in queued[index + 1 :]]
                break
        return outcomes

    async def _older_waiting(self, first: Queued) -> bool:
        """Whether an older message of the chat is still to be sent (not one sent, unmarked)."""
        async with self.database.transaction() as tx:
            rows = await tx.fetch(
                "SELECT id FROM outbox_messages WHERE chat_id = :chat_id AND id < :id"
                " AND sent_at IS NULL ORDER BY id LIMIT 100",
                {"chat_id": first.chat_id, "id": first.id},
            )
        delivered = set(self._sent_ids)
        return any(row["id"] not in delivered for row in rows)

    def _mark_sent_soon(self, ids: list[int]) -> None:
        # Sent messages stay leased until marked, so a short delay resends nothing; marking
        # many in one statement spares a transaction per reply.
        self._sent_ids.extend(ids)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_after(MARK_SENT_EVERY))

    async def _flush_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.flush()

    async def mark_sent_in(self, tx: Transaction) -> None:
        """Write the pending "sent" marks in a transaction that runs anyway (spares one).

        Should that transaction fail, the marks are lost with it: those messages stay leased
        and are sent again once their lease runs out (at worst a duplicate, never a loss).
        """
        if self._sent_ids:
            ids, self._sent_ids = self._sent_ids, []
            await _mark_sent(tx, ids)

    async def flush(self) -> None:
        """Mark as sent what was delivered and not yet marked (also called at shutdown)."""
        while self._sent_ids:
            async with self.database.transaction() as tx:
                await self.mark_sent_in(tx)

    async def run(self, stopping: asyncio.Event) -> None:
        """Send what is left until stopping; woken on failures, or when a message falls due."""
        while not stopping.is_set():
            if await self.send_pending():
                continue
            await wait_for_work(self.wake, await self._seconds_to_next_due())

    async def send_pending(self) -> int:
        """Send what is due now and leased to nobody; the number of calls made."""
        async with self.database.transaction() as tx:
            rows = await tx.fetch(
                "SELECT id FROM outbox_messages WHERE not_before <= :now AND "
                + _UNSENT_FREE
                + " AND "
                + _NO_EARLIER_UNSENT
                + " ORDER BY id LIMIT :limit",
                {"now": self.clock.utcnow(), "limit": self.batch},
            )
        results = await asyncio.gather(*(self._send(row["id"]) for row in rows))
        return sum(results)

    async def _seconds_to_next_due(self) -> float:
        """How long until a retried message falls due (at most a second).

        Messages leased to a sender are in flight and not this loop's business; a failure
        wakes the loop at once.
        """
        now = self.clock.utcnow()
        async with self.database.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT MIN(not_before) AS soonest FROM outbox_messages"
                " WHERE not_before > :now AND " + _UNSENT_FREE,
                {"now": now},
            )
        soonest = as_datetime(row["soonest"]) if row else None
        if soonest is None:
            return 1.0
        return min(max((soonest - now).total_seconds(), 0.01), 1.0)

    async def _send(self, message_id: int) -> int:
        queued = await self._claim(message_id)
        if queued is None:
            return 0
        async with self._turn(queued.chat_id):
            attempt = await self._attempt(queued, tries=queued.attempts)
        if attempt is None:
            return 0
        values, unreachable = attempt
        if "sent_at" not in values:
            self._behind.add(queued.chat_id)
        await self._record([(queued, values, unreachable)], chat_id=queued.chat_id)
        return 1 if "sent_at" in values and "last_error" not in values else 0

    async def _claim(self, message_id: int) -> Queued | None:
        """Take a lease on a due message, committed before any network call."""
        now = self.clock.utcnow()
        async with self.database.transaction() as tx:
            row = await tx.fetch_one(
                "UPDATE outbox_messages SET lease_until = :lease_until, attempts = attempts + 1"
                " WHERE id = :id AND not_before <= :now AND "
                + _UNSENT_FREE
                + " RETURNING id, chat_id, method, payload, attempts",
                {"id": message_id, "now": now, "lease_until": now + LEASE},
            )
        if row is None:
            return None
        payload = as_json(row["payload"])
        method, chat_id = row["method"], row["chat_id"]
        return Queued(row["id"], chat_id, method, payload, now + LEASE, row["attempts"])

    async def _still_ours(self, item: Queued) -> Queued | None:
        """The message with a lease long enough for the call, or None if another sender took it.

        Free when plenty of the lease is left (nobody may take it before it runs out); else
        one statement renews it, on the condition that nobody claimed the row meanwhile.
        """
        now = self.clock.utcnow()
        if item.lease_until - now >= LEASE_MARGIN:
            return item
        async with self.database.transaction() as tx:
            renewed = await tx.execute(
                "UPDATE outbox_messages SET lease_until = :lease_until WHERE id = :id"
                " AND attempts = :attempts AND sent_at IS NULL",
                {"id": item.id, "attempts": item.attempts, "lease_until": now + LEASE},
            )
        return replace(item, lease_until=now + LEASE) if renewed else None

    async def _attempt(self, item: Queued, *, tries: int) -> tuple[dict[str, Any], bool] | None:
        """Make one call (the chat's turn held); the outbox values it leads to, and whether
        the person blocked us. None when the lease was lost while waiting: nothing was sent.
        """
        paced = item.method not in UNPACED
        if paced:
            delay = self._chat_ready.get(item.chat_id, 0.0) - self.clock.monotonic()
            if delay > 0:
                await self.clock.sleep(delay)
            # Telegram's 30 a second is about messages; answering a press is not one.
            await self.pace.wait()
        checked = await self._still_ours(item)
        if checked is None:
            logger.info(
                "outbox message left to the sender that took it", extra={"outbox_id": item.id}
            )
            return None
        try:
            await self._call(item.method, item.payload)
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            self.pace.pause(wait)
            not_before = self.clock.utcnow() + timedelta(seconds=wait)
            return {"lease_until": None, "not_before": not_before}, False
        except Forbidden as error:
            # Blocked by the person: stop writing to them, keep their data as it is.
            return _abandoned(item, error), True
        except BadRequest as error:
            # Telegram will never accept this call (e.g. a callback query too old).
            return _abandoned(item, error), False
        except NetworkError as error:
            if tries >= MAX_ATTEMPTS:
                return _abandoned(item, error), False
            backoff = timedelta(seconds=min(2 ** max(tries, 1), 300))
            return {"lease_until": None, "not_before": self.clock.utcnow() + backoff}, False
        if paced:
            self._remember_next_slot(item.chat_id)
        return {"lease_until": None, "sent_at": self.clock.utcnow()}, False

    def _remember_next_slot(self, chat_id: int) -> None:
        now = self.clock.monotonic()
        if len(self._chat_ready) >= MAX_REMEMBERED_CHATS:
            # Chats whose slot has come are free to send anyway: forget them.
            self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}
        self._chat_ready[chat_id] = now + self.per_chat_interval.total_seconds()

    async def _record(
        self, outcomes: list[tuple[Queued, dict[str, Any], bool]], *, chat_id: int
    ) -> None:
        """Write the outcomes in one transaction (the sent ones in one statement).

        What was not sent is written only while the row is still ours (its claim count
        unchanged): a sender that took it meanwhile keeps its own lease.
        """
        sent = [q.id for q, values, _ in outcomes if set(values) == {"lease_until", "sent_at"}]
        async with self.database.transaction() as tx:
            await _mark_sent(tx, sent)
            for item, values, _ in outcomes:
                if item.id not in sent:
                    columns = ", ".join(f"{name} = :{name}" for name in sorted(values))
                    await tx.execute(
                        f"UPDATE outbox_messages SET {columns}"
                        " WHERE id = :id AND attempts = :claimed",
                        {**values, "id": item.id, "claimed": item.attempts},
                    )
            if any(unreachable for _, _, unreachable in outcomes):
                await set_reachable(
                    tx, channel="telegram", external_id=str(chat_id), reachable=False
                )

    async def _call(self, method: str, payload: dict[str, Any]) -> None:
        """Make the call with PTB's public ``Bot.do_api_request``, through its real HTTP client.

        The outbox holds ready Bot API parameters (keyboards as dicts); the typed ``Bot``
        methods would also build a Message from every answer, which nobody reads (four times
        the CPU of the call). Errors are PTB's own (RetryAfter, Forbidden, BadRequest,
        NetworkError).
        """
        await self.bot.do_api_request(method, api_kwargs=payload)


def _abandoned(item: Queued, error: Exception) -> dict[str, Any]:
    """Values that close a message Telegram will never accept, with the reason kept."""
    logger.warning(
        "outbox call abandoned",
        extra={"outbox_id": item.id, "method": item.method, "error": type(error).__name__},
    )
    reason = f"{type(error).__name__}: {error}"[:300]
    return {"lease_until": None, "sent_at": utcnow(), "last_error": reason}


async def _mark_sent(tx: Transaction, ids: list[int]) -> None:
    """Mark delivered messages sent, in one statement."""
    if ids:
        marks = ", ".join(f":id{n}" for n in range(len(ids)))
        await tx.write(
            f"UPDATE outbox_messages SET sent_at = :now, lease_until = NULL WHERE id IN ({marks})",
            {"now": utcnow(), **{f"id{n}": i for n, i in enumerate(ids)}},
        )
