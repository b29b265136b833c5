"""A lead webhook receiver on a real socket, answering as scripted, keeping what it got."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.clock import utcnow
from bot.leads import endpoints
from bot.storage.database import Database, Transaction
from tests.auxil.servers import serve
from webhook.handoff.signing import new_secret

PATH = "/hooks/leads"


@dataclass(frozen=True)
class Answer:
    """How the receiver answers one request: a status, after a delay, with headers."""

    status: int = 204
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def event(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


class Receiver:
    """Answers the scripted answers in turn, then ``default``; thread-safe."""

    def __init__(self, *answers: Answer, default: Answer | None = None) -> None:
        self.script: deque[Answer] = deque(answers)
        self.default = default or Answer()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route(PATH, self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            answer = self.script.popleft() if self.script else self.default
            self.received.append(Received(dict(request.headers), body, answer.status))
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return Response(status_code=answer.status, headers=answer.headers)

    def accepted(self) -> list[Received]:
        """The requests it answered with a 2xx (what a real receiver would have kept)."""
        with self._lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every accepted event, each checked with the standardwebhooks library first."""
        webhook = Webhook(secret)
        events = []
        for request in self.accepted():
            events.append(webhook.verify(request.body, request.headers))
        return events

    @contextmanager
    def running(self, *, port: int = 0) -> Iterator[str]:
        """Listen until the block ends; yields the URL to register."""
        with serve(self.app, port=port) as base_url:
            yield base_url + PATH

    async def wait_for(self, count: int, within: float = 20.0) -> list[Received]:
        """Wait until this many requests were accepted."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.accepted()) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{len(self.accepted())} accepted of {count} expected;"
                    f" answers so far: {[r.answered for r in self.received]}"
                )
            await asyncio.sleep(0.02)
        return self.accepted()


async def register_endpoint(
    database: Database,
    url: str = "https://crm.example.org/hook",
    *,
    secret: str | None = None,
    name: str = "CRM",
    site: str | None = None,
    referrer: str | None = None,
) -> str:
    """An endpoint for lead events, as ``aiguillage endpoints add`` makes it; its id.

    A partner's endpoint comes with the partner's registered code (unregistered codes are
    all ``unknown``).
    """
    async with database.transaction() as tx:
        if referrer is not None:
            await register_referrer(tx, referrer)
        return await endpoints.add_endpoint(
            tx,
            url=url,
            name=name,
            site=site,
            referrer=referrer,
            secret=secret or new_secret(),
            now=utcnow(),
        )


async def register_referrer(tx: Transaction, code: str, name: str | None = None) -> None:
    """A partner's referral code, as ``aiguillage referrers add`` makes it (once)."""
    await tx.execute(
        "INSERT INTO referrers (code, name, created_at) VALUES (:code, :name, :now)"
        " ON CONFLICT (code) DO NOTHING",
        {"code": code, "name": name or code, "now": utcnow()},
    )


async def all_delivered(database: Database) -> None:
    """What the delivery worker would do (tests often run without it): every delivery went out."""
    async with database.transaction() as tx:
        await tx.execute(
            "UPDATE webhook_deliveries SET attempts = 1, delivered_at = :now"
            " WHERE delivered_at IS NULL",
            {"now": utcnow()},
        )
