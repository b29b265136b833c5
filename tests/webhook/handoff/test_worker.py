"""Delivering lead events to a real receiver, through every fault it can show."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.clock import utcnow
from bot.leads import endpoints
from bot.storage.database import Database, open_database
from bot.storage.values import as_datetime
from tests.auxil.clock import ManualClock
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.servers import unused_port
from tests.auxil.web_chat import drive
from tests.auxil.webhook_receiver import PATH, Answer, Receiver, register_endpoint
from webhook.handoff.signing import new_secret
from webhook.handoff.worker import LEASE, DeliveryWorker

PROFILE = SAMIR_IN_PANTIN
# The real schedule spans three days; the same logic on tenths of a second.
FAST = (timedelta(seconds=0.2), timedelta(seconds=0.2), timedelta(seconds=0.2))


@pytest.fixture
def app(quiet_app: FastAPI) -> FastAPI:
    """The service without its own worker: each test runs the workers it needs."""
    return quiet_app


async def register(app: FastAPI, url: str, secret: str) -> str:
    return await register_endpoint(app.state.database, url, secret=secret)


async def delivery(app: FastAPI) -> dict[str, Any]:
    async with app.state.database.transaction() as tx:
        [row] = await tx.fetch("SELECT * FROM webhook_deliveries")
    return row


async def until_delivered(worker: DeliveryWorker, app: FastAPI, within: float = 15.0) -> None:
    """Run the worker as the service does until every delivery is delivered or given up."""
    stopping = asyncio.Event()
    task = asyncio.create_task(worker.run(stopping))
    try:
        async with asyncio.timeout(within):
            while True:
                async with app.state.database.transaction() as tx:
                    left = await tx.fetch(
                        "SELECT id FROM webhook_deliveries"
                        " WHERE delivered_at IS NULL AND failed_at IS NULL"
                    )
                if not left:
                    return
                await asyncio.sleep(0.05)
    finally:
        stopping.set()
        worker.wake.set()
        await task


def worker_for(app: FastAPI, **options: Any) -> DeliveryWorker:
    options.setdefault("schedule", FAST)
    options.setdefault("poll_seconds", 0.05)
    return DeliveryWorker(app.state.database, **options)


async def test_a_lead_reaches_a_real_endpoint_and_verifies_with_standardwebhooks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    receiver = Receiver()
    secret = new_secret()
    with receiver.running() as url:
        await register(app, url, secret)
        await drive(client, PROFILE)
        worker = worker_for(app)
        await until_delivered(worker, app)
        await worker.close()
    [event] = receiver.verified(secret)
    assert event["type"] == "lead.created"
    assert event["data"]["contact"]["phone"] == "+33612345678"
    row = await delivery(app)
    assert receiver.accepted()[0].webhook_id == row["id"]
    assert row["id"].startswith("msg_")
    assert row["delivered_at"] is not None
    assert row["attempts"] == 1
    assert row["last_status"] == 204


async def test_a_receiver_down_gets_the_lead_once_it_is_back_with_the_same_webhook_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    port = unused_port()
    secret = new_secret()
    await register(app, f"http://127.0.0.1:{port}{PATH}", secret)
    await drive(client, PROFILE)
    worker = worker_for(app)
    assert await worker.deliver_due() == 1
    down = await delivery(app)
    assert down["delivered_at"] is None
    assert "could not reach receiver" in down["last_error"]
    assert as_datetime(down["next_attempt_at"]) > utcnow()

    receiver = Receiver()
    with receiver.running(port=port):
        await until_delivered(worker, app)
    await worker.close()
    [event] = receiver.verified(secret)
    assert event["type"] == "lead.created"
    assert receiver.accepted()[0].webhook_id == down["id"]
    assert (await delivery(app))["attempts"] == 2


async def test_server_errors_are_retried_until_accepted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(Answer(500), Answer(503))
    secret = new_secret()
    with receiver.running() as url:
        await register(app, url, secret)
        await drive(client, PROFILE)
        worker = worker_for(app)
        await until_delivered(worker, app)
        await worker.close()
    assert [r.answered for r in receiver.received] == [500, 503, 204]
    assert len({r.webhook_id for r in receiver.received}) == 1
    assert len(receiver.verified(secret)) == 1
    row = await delivery(app)
    assert row["attempts"] == 3
    assert row["delivered_at"] is not None


async def test_a_429_is_retried_no_sooner_than_its_retry_after(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(Answer(429, headers={"retry-after": "2"}))
    with receiver.running() as url:
        await register(app, url, new_secret())
        await drive(client, PROFILE)
        worker = worker_for(app)
        before = utcnow()
        assert await worker.deliver_due() == 1
        waiting = await delivery(app)
        # The schedule alone would retry after 0.2 s; the receiver asked for 2.
        assert as_datetime(waiting["next_attempt_at"]) >= before + timedelta(seconds=2)
        assert waiting["last_error"] == "HTTP 429"
        assert await worker.deliver_due() == 0  # not yet
        await until_delivered(worker, app)
        await worker.close()
    assert [r.answered for r in receiver.received] == [429, 204]


async def test_a_410_stops_and_disables_the_endpoint_holding_its_other_deliveries(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(Answer(410))
    with receiver.running() as url:
        endpoint_id = await register(app, url, new_secret())
        await drive(client, PROFILE)
        worker = worker_for(app)
        assert await worker.deliver_due() == 1
        gone = await delivery(app)
        assert gone["failed_at"] is not None
        assert "410" in gone["last_error"]
        async with app.state.database.transaction() as tx:
            [info] = await endpoints.list_endpoints(tx, now=utcnow())
        assert info.disabled_at is not None
        assert "410" in (info.disabled_reason or "")

        # Another lead meanwhile: kept for the endpoint, not sent while it is disabled.
        await drive(client, PROFILE, session="session-another-person")
        assert await worker.deliver_due() == 0
        async with app.state.database.transaction() as tx:
            await endpoints.set_enabled(tx, endpoint_id, True, now=utcnow())
        assert await worker.deliver_due() == 1
        await worker.close()
    assert [r.answered for r in receiver.received] == [410, 204]


async def test_a_receiver_too_slow_is_tried_again_with_the_same_webhook_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(Answer(204, delay=2.0))
    secret = new_secret()
    with receiver.running() as url:
        await register(app, url, secret)
        await drive(client, PROFILE)
        worker = worker_for(app, timeout=timedelta(seconds=0.5))
        assert await worker.deliver_due() == 1
        slow = await delivery(app)
        assert slow["last_error"] == "no answer within 0.5 s"
        assert slow["delivered_at"] is None
        await until_delivered(worker, app)
        await worker.close()
    assert len(receiver.received) == 2
    assert receiver.received[0].webhook_id == receiver.received[1].webhook_id == slow["id"]


async def test_a_worker_that_dies_during_a_try_leaves_it_to_another_after_its_lease(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    receiver = Receiver()
    with receiver.running() as url:
        await register(app, url, new_secret())
        await drive(client, PROFILE)
        # The dying worker's receiver never answers; it says when the try has reached it.
        arrived: asyncio.Queue[httpx.Request] = asyncio.Queue()

        async def never_answer(request: httpx.Request) -> httpx.Response:
            await arrived.put(request)
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        hanging = httpx.AsyncClient(transport=httpx.MockTransport(never_answer))
        dying = worker_for(app, client=hanging)
        attempt = asyncio.create_task(dying.deliver_due())
        first_try = await arrived.get()
        attempt.cancel()  # the process is gone: no answer read, nothing recorded
        await asyncio.gather(attempt, return_exceptions=True)
        await hanging.aclose()

        clock = ManualClock()
        other = worker_for(app, clock=clock)
        assert await other.deliver_due() == 0  # leased to the dead worker, for now
        clock.advance(LEASE - timedelta(seconds=1))
        assert await other.deliver_due() == 0
        clock.advance(timedelta(seconds=2))
        assert await other.deliver_due() == 1
        await other.close()
        row = await delivery(app)
    assert row["delivered_at"] is not None
    assert row["attempts"] == 2
    # Delivered at least once: the copies share their webhook-id, for receivers to de-duplicate.
    assert first_try.headers["webhook-id"] == row["id"]
    assert [r.webhook_id for r in receiver.accepted()] == [row["id"]]


async def test_a_delivery_given_up_stays_listed_and_can_be_replayed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(default=Answer(500))
    secret = new_secret()
    with receiver.running() as url:
        await register(app, url, secret)
        await drive(client, PROFILE)
        worker = worker_for(app)
        await until_delivered(worker, app)  # ends when it is given up
        async with app.state.database.transaction() as tx:
            [failed] = await endpoints.list_deliveries(tx, state="failed")
        assert failed.attempts == len(FAST) + 1
        assert failed.last_status == 500
        assert receiver.verified(secret) == []

        receiver.default = Answer(200)
        async with app.state.database.transaction() as tx:
            assert await endpoints.replay(tx, [failed.id], now=utcnow()) == 1
        await until_delivered(worker, app)
        await worker.close()
    [event] = receiver.verified(secret)
    assert receiver.accepted()[0].webhook_id == failed.id
    assert event["type"] == "lead.created"


async def test_during_a_rotation_both_secrets_verify(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    receiver = Receiver()
    old, new = new_secret(), new_secret()
    with receiver.running() as url:
        endpoint_id = await register(app, url, old)
        async with app.state.database.transaction() as tx:
            await endpoints.rotate_secret(tx, endpoint_id, new, now=utcnow())
        await drive(client, PROFILE)
        worker = worker_for(app)
        await until_delivered(worker, app)
        await worker.close()
    assert len(receiver.verified(old)) == 1
    assert len(receiver.verified(new)) == 1
    assert len(receiver.accepted()[0].headers["webhook-signature"].split(" ")) == 2


async def test_a_secret_broken_by_hand_fails_its_endpoint_only_and_says_so_in_one_line(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver()
    good = new_secret()
    with receiver.running() as url:
        await register(app, url, good)
        await register(app, url + "?second", "whsec_not-base64!")
        await drive(client, PROFILE)
        worker = worker_for(app)
        assert await worker.deliver_due() == 2
        await worker.close()
    assert len(receiver.verified(good)) == 1
    async with app.state.database.transaction() as tx:
        rows = await tx.fetch("SELECT last_error, delivered_at FROM webhook_deliveries")
    errors = sorted(str(row["last_error"]) for row in rows)
    assert errors == ["None", "the endpoint's signing secret is malformed"]
    warnings = [r for r in caplog.records if "not whsec_" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].exc_info is None
    assert "whsec_not-base64" not in caplog.text


async def test_two_workers_sharing_the_database_send_each_delivery_once(
    app: FastAPI, client: httpx.AsyncClient, database_url: str
) -> None:
    receiver = Receiver(default=Answer(204, delay=0.05))
    with receiver.running() as url:
        for _ in range(12):
            await register(app, url, new_secret())
        for person in range(3):
            await drive(client, PROFILE, session=f"session-person-{person:04d}")
        # Two workers, each with its own connections, as two processes would have.
        databases: list[Database] = [open_database(database_url) for _ in range(2)]
        workers = [
            DeliveryWorker(db, batch=4, poll_seconds=0.02, schedule=FAST) for db in databases
        ]
        stopping = asyncio.Event()
        tasks = [asyncio.create_task(w.run(stopping)) for w in workers]
        try:
            await receiver.wait_for(36)
            await asyncio.sleep(0.3)  # a duplicate would arrive now
        finally:
            stopping.set()
            for w in workers:
                w.wake.set()
            await asyncio.gather(*tasks)
            for w, db in zip(workers, databases, strict=True):
                await w.close()
                await db.close()
    ids = [r.webhook_id for r in receiver.received]
    assert len(ids) == 36
    assert len(set(ids)) == 36
