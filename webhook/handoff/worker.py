"""The delivery worker: sends queued lead events, retries them, and marks each one.

It claims due deliveries with a lease (bot/leads/delivery_claims.py: any number of workers
may share a database), then posts them with no lock held. A worker killed during a try
leaves its lease to expire: the delivery is tried again, with the same ``webhook-id``, which
is what receivers de-duplicate on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.clock import utcnow
from bot.leads.delivery_claims import (
    Claimed,
    Endpoint,
    claim_due,
    disable_gone,
    endpoints_of,
    record_try,
)
from bot.storage.database import Database
from bot.waiting import wait_for_work
from webhook.handoff import signing
from webhook.handoff.retries import SCHEDULE, next_wait, parse_retry_after

logger = logging.getLogger(__name__)
TIMEOUT = timedelta(seconds=15)
# Longer than a try can take: a lease that runs out means its worker died.
LEASE = timedelta(seconds=60)
USER_AGENT = "Aiguillage-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one try changed: the delivery's new columns, and the endpoint's if it said 410."""

    values: dict[str, Any]
    disable_endpoint: str | None = None


class DeliveryWorker:
    """Delivers lead events until stopped; woken at once when this process queues some."""

    def __init__(
        self,
        database: Database,
        *,
        wake: asyncio.Event | None = None,
        client: httpx.AsyncClient | None = None,
        batch: int = 16,
        poll_seconds: float = 1.0,
        timeout: timedelta = TIMEOUT,
        lease: timedelta = LEASE,
        schedule: Sequence[timedelta] = SCHEDULE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.wake = wake or asyncio.Event()
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.lease = lease
        self.schedule = schedule
        # Leases and retries are read against this clock, so tests move time, not sleep.
        self.clock = clock
        self._client = client
        self._own_client = client is None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Deliver in the background while the block runs; then end the round in flight."""
        stopping = asyncio.Event()
        task = asyncio.create_task(self.run(stopping))
        try:
            yield
        finally:
            stopping.set()
            self.wake.set()
            await task
            await self.close()

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver what falls due until ``stopping`` is set."""
        while not stopping.is_set():
            try:
                if await self.deliver_due():
                    continue
            except Exception:  # a database hiccup must not end the worker
                logger.exception("delivery round failed")
            await wait_for_work(self.wake, self.poll_seconds)

    async def deliver_due(self) -> int:
        """Claim and try what is due now; the number of tries made."""
        claimed, endpoints = await self._claim()
        if not claimed:
            return 0
        outcomes = await asyncio.gather(
            *(self._try(item, endpoints.get(item.endpoint_id)) for item in claimed)
        )
        await self._record(list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    async def close(self) -> None:
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.timeout.total_seconds(),
                headers={"user-agent": USER_AGENT},
                follow_redirects=False,
            )
        return self._client

    async def _claim(self) -> tuple[list[Claimed], dict[str, Endpoint]]:
        now = self.clock()
        async with self.database.transaction() as tx:
            claimed = await claim_due(tx, now=now, limit=self.batch, lease_until=now + self.lease)
            endpoints = (
                await endpoints_of(tx, {item.endpoint_id for item in claimed}, now=now)
                if claimed
                else {}
            )
        return claimed, endpoints

    async def _try(self, item: Claimed, endpoint: Endpoint | None) -> Outcome:
        if endpoint is None:  # removed while the delivery was claimed
            return Outcome({"failed_at": self.clock(), "last_error": "endpoint removed"})
        # The receiver checks the signature's time against its own: the wall clock's.
        timestamp = int(time.time())
        try:
            headers = signing.headers(endpoint.secrets, item.id, timestamp, item.body)
        except signing.BadSecret:
            # A secret edited by hand in the database: this endpoint waits for a rotation;
            # the other endpoints' deliveries of the round go on.
            logger.warning(
                "delivery not signed: the endpoint's secret is not whsec_ and base64;"
                " rotate it with `aiguillage endpoints rotate-secret`",
                extra={"endpoint": endpoint.id},
            )
            return self._retry(item, None, "the endpoint's signing secret is malformed")
        try:
            response = await self._http().post(
                endpoint.url, content=item.body.encode(), headers=headers
            )
        except httpx.TimeoutException:
            return self._retry(item, None, f"no answer within {self.timeout.total_seconds():g} s")
        except httpx.HTTPError as error:
            return self._retry(item, None, f"{type(error).__name__}: could not reach receiver")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(
                {"delivered_at": self.clock(), "last_status": status, "last_error": None}
            )
        if status == 410:
            # The receiver says it is gone for good: stop, and stop sending it anything.
            reason = "410 Gone: the receiver asked to stop"
            values = {"failed_at": self.clock(), "last_status": status, "last_error": reason}
            return Outcome(values, disable_endpoint=endpoint.id)
        retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock())
        return self._retry(item, status, f"HTTP {status}", retry_after=retry_after)

    def _retry(
        self,
        item: Claimed,
        status: int | None,
        error: str,
        *,
        retry_after: timedelta | None = None,
    ) -> Outcome:
        wait = next_wait(item.attempts, retry_after=retry_after, schedule=self.schedule)
        values: dict[str, Any] = {"last_status": status, "last_error": error[:300]}
        if wait is None:
            return Outcome(values | {"failed_at": self.clock()})
        return Outcome(values | {"next_attempt_at": self.clock() + wait})

    async def _record(self, results: list[tuple[Claimed, Outcome]]) -> None:
        now = self.clock()
        async with self.database.transaction() as tx:
            for item, outcome in results:
                await record_try(tx, item, outcome.values)
                if outcome.disable_endpoint is not None:
                    await disable_gone(
                        tx, outcome.disable_endpoint, reason="410 Gone from the receiver", now=now
                    )
                logger.info(
                    "delivery tried",
                    extra={
                        "delivery": item.id,
                        "endpoint": item.endpoint_id,
                        "attempt": item.attempts,
                        "status": outcome.values.get("last_status"),
                        "delivered": "delivered_at" in outcome.values,
                        "gave_up": "failed_at" in outcome.values,
                    },
                )
