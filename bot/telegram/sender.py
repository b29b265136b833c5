"""Delivering the outbox: in order per chat, within Telegram's limits, never dropping a message.

A step's replies are sent at once by the process that made them (they are inserted leased to
it); the loop here sends whatever is left: retries after 429 or network errors, expired
leases of a process that died, a backlog after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import httpx
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.conversations import set_reachable
from bot.storage.raw import RawDatabase, Transaction, as_datetime, as_json
from bot.storage.types import utcnow
from bot.waiting import wait_for_work

logger = logging.getLogger(__name__)
PER_CHAT_INTERVAL = timedelta(seconds=1)  # Telegram: about one message a second in a chat
MAX_ATTEMPTS = 12
# Long enough for Telegram's slowest answer (15 s timeout); a crashed sender's lease expires.
LEASE = timedelta(seconds=60)
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
    """An outbox row this process holds the lease of."""

    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Pace:
    """At most ``rate`` calls in any one-second window from this process (Telegram: ~30).

    A window rather than even spacing: replies to different people arriving together go out
    together, and only a real burst waits.
    """

    def __init__(self, rate: float) -> None:
        self.rate = max(int(rate), 1)
        self.sent: deque[float] = deque()
        self.paused_until = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                while self.sent and now - self.sent[0] >= 1.0:
                    self.sent.popleft()
                delay = max(self.paused_until - now, 0.0)
                if len(self.sent) >= self.rate:
                    delay = max(delay, 1.0 - (now - self.sent[0]))
                if delay <= 0:
                    self.sent.append(now)
                    return
                await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        """Telegram asked us to slow down: nobody sends before then."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)


class OutboxSender:
    """Sends queued Bot API calls with the real python-telegram-bot client."""

    def __init__(
        self,
        database: RawDatabase,
        bot: Bot,
        *,
        overall_rate: float = 30.0,
        per_chat_interval: timedelta = PER_CHAT_INTERVAL,
        batch: int = 30,
    ) -> None:
        self.database = database
        self.bot = bot
        self._urls: dict[str, str] = {}
        self.pace = Pace(overall_rate)
        self.per_chat_interval = per_chat_interval
        self.batch = batch
        self.wake = asyncio.Event()
        # When each chat may next get a message from this process.
        self._chat_ready: dict[int, float] = {}
        self._sent_ids: list[int] = []
        self._flushing: asyncio.Task[None] | None = None

    async def deliver(self, queued: list[Queued]) -> None:
        """Send a step's replies now, in order; what fails is left to the loop, in order."""
        outcomes: list[tuple[int, dict[str, Any], bool]] = []
        for index, item in enumerate(queued):
            values, unreachable = await self._attempt(item, attempts=1)
            outcomes.append((item.id, values, unreachable))
            if "sent_at" not in values:
                # Keep the chat's order: the rest waits for the loop, after this one.
                outcomes += [
                    (later.id, {"lease_until": None}, False) for later in queued[index + 1 :]
                ]
                break
        if all(set(values) == {"lease_until", "sent_at"} for _, values, _ in outcomes):
            self._mark_sent_soon([message_id for message_id, _, _ in outcomes])
            return
        await self._record(outcomes, chat_id=queued[0].chat_id)
        self.wake.set()

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
                {"now": utcnow(), "limit": self.batch},
            )
        results = await asyncio.gather(*(self._send(row["id"]) for row in rows))
        return sum(results)

    async def _seconds_to_next_due(self) -> float:
        """How long until a retried message falls due (at most a second).

        Messages leased to a sender are in flight and not this loop's business; a failure
        wakes the loop at once.
        """
        now = utcnow()
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
        item = await self._claim(message_id)
        if item is None:
            return 0
        queued, attempts = item
        values, unreachable = await self._attempt(queued, attempts=attempts)
        await self._record([(queued.id, values, unreachable)], chat_id=queued.chat_id)
        return 1 if "sent_at" in values and "last_error" not in values else 0

    async def _claim(self, message_id: int) -> tuple[Queued, int] | None:
        """Take a lease on a due message, committed before any network call."""
        now = utcnow()
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
        queued = Queued(row["id"], row["chat_id"], row["method"], as_json(row["payload"]))
        return queued, row["attempts"]

    async def _attempt(self, item: Queued, *, attempts: int) -> tuple[dict[str, Any], bool]:
        """Make one call; the outbox values it leads to, and whether the person blocked us."""
        if item.method not in UNPACED:
            delay = self._chat_ready.get(item.chat_id, 0.0) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            # Telegram's 30 a second is about messages; answering a press is not one.
            await self.pace.wait()
        try:
            await self._call(item.method, item.payload)
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            self.pace.pause(wait)
            return {"lease_until": None, "not_before": utcnow() + timedelta(seconds=wait)}, False
        except Forbidden as error:
            # Blocked by the person: stop writing to them, keep their data as it is.
            return _abandoned(item, error), True
        except BadRequest as error:
            # Telegram will never accept this call (e.g. a callback query too old).
            return _abandoned(item, error), False
        except NetworkError as error:
            if attempts >= MAX_ATTEMPTS:
                return _abandoned(item, error), False
            backoff = timedelta(seconds=min(2**attempts, 300))
            return {"lease_until": None, "not_before": utcnow() + backoff}, False
        if item.method not in UNPACED:
            interval = self.per_chat_interval.total_seconds()
            self._chat_ready[item.chat_id] = time.monotonic() + interval
        return {"lease_until": None, "sent_at": utcnow()}, False

    async def _record(
        self, outcomes: list[tuple[int, dict[str, Any], bool]], *, chat_id: int
    ) -> None:
        """Write the outcomes in one transaction (the sent ones in one statement)."""
        sent = [i for i, values, _ in outcomes if set(values) == {"lease_until", "sent_at"}]
        async with self.database.transaction() as tx:
            await _mark_sent(tx, sent)
            for message_id, values, _ in outcomes:
                if message_id not in sent:
                    columns = ", ".join(f"{name} = :{name}" for name in sorted(values))
                    await tx.execute(
                        f"UPDATE outbox_messages SET {columns} WHERE id = :id",
                        {**values, "id": message_id},
                    )
            if any(unreachable for _, _, unreachable in outcomes):
                await set_reachable(
                    tx, channel="telegram", external_id=str(chat_id), reachable=False
                )

    async def _call(self, method: str, payload: dict[str, Any]) -> None:
        """Make the call through PTB's request object, its real HTTP client.

        The outbox holds ready Bot API parameters (keyboards as dicts), so the typed ``Bot``
        methods would only rebuild them, then build objects from Telegram's answer that
        nobody reads. Errors are PTB's own (RetryAfter, Forbidden, BadRequest, NetworkError).
        """
        data = RequestData([RequestParameter.from_input(k, v) for k, v in payload.items()])
        await self.bot.request.post(self._url(method), request_data=data)

    def _url(self, method: str) -> str:
        url = self._urls.get(method)
        if url is None:
            url = f"{self.bot.base_url}/{method}"
            if isinstance(self.bot.request, HTTPXRequest):
                # httpx parses a URL string at every call (a few % of an update's CPU) and takes
                # its own URL objects as they are: parse each method's once.
                url = cast(str, httpx.URL(url))
            self._urls[method] = url
        return url


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
