"""A fake of Brevo's transactional SMS endpoint over real HTTP, for tests.

``POST /v3/transactionalSMS/send`` with the ``api-key`` header, answered 201 with a new
``messageId`` as Brevo answers, or with Brevo's error body when a test programmed a failure
(a status, a code, a Retry-After, a delay). Served on 127.0.0.1 in a daemon thread
(tests/auxil/servers.py), like the fake Graph API:

    async with FakeSmsApi() as brevo:
        provider = BrevoSms(brevo.api_url, brevo.api_key, "PoleS")
        brevo.fail_next(400, "invalid_parameter")
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.auxil.servers import ServedApp

API_KEY = "xkeysib-test-0123456789abcdef"
WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class SmsCall:
    """One POST as the fake received it, and the status it answered."""

    path: str
    api_key: str | None
    body: Any
    status: int


@dataclass(frozen=True)
class _Programmed:
    status: int
    body: dict[str, Any] | None  # None: answer as for a good call (after the delay)
    delay_seconds: float
    headers: dict[str, str]


class FakeSmsApi(ServedApp):
    """Records each send, answers like Brevo, fails or delays the next ones when told to."""

    def __init__(self, *, api_key: str = API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self._lock = threading.Lock()
        self._calls: list[SmsCall] = []
        self._programmed: deque[_Programmed] = deque()
        self._ids = itertools.count(1511882900176220)
        self._arrived = threading.Condition(self._lock)

    @property
    def api_url(self) -> str:
        """What AIGUILLAGE_SMS_API_URL would be."""
        return f"{self.url}/v3"

    def fail_next(
        self,
        status: int,
        code: str | None = None,
        *,
        count: int = 1,
        message: str = "failed",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``count`` sends with ``status`` and Brevo's error body."""
        body = {"code": code, "message": message} if code else {}
        failure = _Programmed(status, body, 0.0, headers or {})
        with self._lock:
            self._programmed.extend([failure] * count)

    def delay_next(self, seconds: float) -> None:
        """Answer the next send normally, but only after ``seconds``."""
        with self._lock:
            self._programmed.append(_Programmed(HTTPStatus.CREATED, None, seconds, {}))

    @property
    def calls(self) -> list[SmsCall]:
        with self._lock:
            return list(self._calls)

    def sent(self) -> list[dict[str, Any]]:
        """The bodies Brevo took (answered 201)."""
        return [call.body for call in self.calls if call.status == HTTPStatus.CREATED]

    async def wait_for_calls(self, count: int) -> list[SmsCall]:
        """Wait until ``count`` calls arrived (TimeoutError after WAIT_SECONDS)."""

        def wait() -> bool:
            with self._arrived:
                return self._arrived.wait_for(lambda: len(self._calls) >= count, WAIT_SECONDS)

        if not await asyncio.to_thread(wait):
            raise TimeoutError(f"{count} SMS calls expected, {len(self.calls)} arrived")
        return self.calls

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v3/transactionalSMS/send", self._send, methods=["POST"])])

    async def _send(self, request: Request) -> JSONResponse:
        api_key = request.headers.get("api-key")
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        status, answer, headers = await self._answer(api_key, body)
        with self._arrived:
            self._calls.append(SmsCall(request.url.path, api_key, body, status))
            self._arrived.notify_all()
        return JSONResponse(answer, status, headers=headers)

    async def _answer(
        self, api_key: str | None, body: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if api_key != self.api_key:
            return HTTPStatus.UNAUTHORIZED, {"code": "unauthorized", "message": "Key not found"}, {}
        with self._lock:
            programmed = self._programmed.popleft() if self._programmed else None
        if programmed is not None and programmed.delay_seconds:
            await asyncio.to_thread(self.stopping.wait, programmed.delay_seconds)
        if programmed is not None and programmed.body is not None:
            return programmed.status, programmed.body, programmed.headers
        required = ("sender", "recipient", "content")
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in required):
            return HTTPStatus.BAD_REQUEST, {"code": "missing_parameter", "message": "…"}, {}
        return HTTPStatus.CREATED, {"messageId": next(self._ids)}, {}
