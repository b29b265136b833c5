"""A fake of the WhatsApp Cloud API's messages and media endpoints over real HTTP, for tests.

``POST /{version}/{phone_number_id}/messages`` with ``Authorization: Bearer <token>``, answered
as Meta answers a send (one ``wamid.`` per message), or with Meta's error body when a test
programmed a failure. ``POST /{version}/{phone_number_id}/media`` takes a multipart upload
(``file``, ``type``, ``messaging_product``) of a type Meta supports and answers its media
``id``; a document message must name an id it gave. uvicorn serves it on 127.0.0.1 in a daemon
thread (tests/auxil/servers.py), like the fake Bot API, so it works from sync and async tests
alike:

    async with FakeGraphApi() as graph:
        messenger = WhatsAppMessenger(graph.api_url, graph.phone_number_id, graph.token)
        graph.fail_next(131047)
        ...
        await graph.wait_for_messages(2)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.auxil.fake_bot_api import parse_multipart
from tests.auxil.servers import ServedApp
from tests.auxil.whatsapp_payloads import PHONE_NUMBER_ID, graph_error, new_message_id

TOKEN = "EAAG-test-token-0123456789"
API_VERSION = "v23.0"
WAIT_SECONDS = 10.0
# What Meta's media endpoint takes ("Supported media types"): documents and images here.
MEDIA_TYPES = frozenset(
    {
        "text/plain",
        "application/pdf",
        "application/vnd.ms-powerpoint",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "image/jpeg",
        "image/png",
    }
)


@dataclass(frozen=True)
class GraphCall:
    """One POST as the fake received it, and the status it answered."""

    path: str
    authorization: str | None
    # The decoded JSON (None when the body was not JSON); an upload's form fields, the file
    # as its metadata (its bytes are in FakeGraphApi.media).
    body: Any
    status: int
    at: float  # time.monotonic() when it arrived


@dataclass(frozen=True)
class Media:
    """A file Meta took on ``/media``: the id it answered, the declared type, the bytes."""

    id: str
    type: str
    filename: str
    content: bytes


@dataclass(frozen=True)
class _Programmed:
    status: int
    body: dict[str, Any] | None  # None: answer as for a good call (a delay only)
    delay_seconds: float
    retry_after: str | None


_media_serial = itertools.count(1)


def _taken_message(call: GraphCall) -> bool:
    return call.status == HTTPStatus.OK and call.path.endswith("/messages")


class FakeGraphApi(ServedApp):
    """Records each POST, answers like Meta, fails or delays the next calls when told to."""

    def __init__(
        self,
        *,
        phone_number_id: str = PHONE_NUMBER_ID,
        token: str = TOKEN,
        version: str = API_VERSION,
    ) -> None:
        super().__init__()
        self.phone_number_id, self.token, self.version = phone_number_id, token, version
        self._lock = threading.Lock()
        self._calls: list[GraphCall] = []
        self._programmed: deque[_Programmed] = deque()
        self._media: dict[str, Media] = {}
        # Callers waiting for calls: (their loop, their event, the predicate on the calls).
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event, Any]] = []

    @property
    def api_url(self) -> str:
        """What WhatsAppMessenger takes as ``api_url`` (AIGUILLAGE_WHATSAPP_API_URL's form)."""
        return f"{self.url}/{self.version}"

    # What tests program.

    def fail_next(
        self,
        code: int | None = None,
        *,
        status: int = HTTPStatus.BAD_REQUEST,
        count: int = 1,
        details: str | None = None,
        message: str | None = None,
        retry_after: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next ``count`` calls with ``status`` and Meta's error body for ``code``
        (``body`` instead, as given; neither: an empty error body, as a bare 5xx).
        """
        if body is None and code is not None:
            body = graph_error(code, details=details, message=message)
        failure = _Programmed(int(status), body if body is not None else {}, 0.0, retry_after)
        with self._lock:
            self._programmed.extend([failure] * count)

    def delay_next(self, seconds: float, *, count: int = 1) -> None:
        """Answer the next ``count`` calls normally, but only after ``seconds``."""
        with self._lock:
            self._programmed.extend([_Programmed(HTTPStatus.OK, None, seconds, None)] * count)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._programmed.clear()
            self._media.clear()

    # What tests read.

    @property
    def calls(self) -> list[GraphCall]:
        with self._lock:
            return list(self._calls)

    def messages(self) -> list[dict[str, Any]]:
        """The bodies of the calls answered 200: the messages Meta would have taken."""
        return [call.body for call in self.calls if _taken_message(call)]

    @property
    def media(self) -> list[Media]:
        """The files uploaded and taken, oldest first."""
        with self._lock:
            return list(self._media.values())

    async def wait_for_messages(self, count: int) -> list[dict[str, Any]]:
        """Wait until ``count`` messages were taken (no fixed sleep); return them all."""
        await self.wait_for_calls(count, taken_only=True)
        return self.messages()

    async def wait_for_calls(self, count: int, *, taken_only: bool = False) -> list[GraphCall]:
        """Wait until ``count`` calls arrived (``taken_only``: messages answered 200, uploads
        not counted); return them all.

        Gives up with TimeoutError after WAIT_SECONDS: a test that waits in vain fails.
        """

        def enough(calls: list[GraphCall]) -> bool:
            taken = [c for c in calls if _taken_message(c)] if taken_only else calls
            return len(taken) >= count

        event = asyncio.Event()
        with self._lock:
            if enough(self._calls):
                return list(self._calls)
            waiter = (asyncio.get_running_loop(), event, enough)
            self._waiters.append(waiter)
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                await event.wait()
        finally:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return self.calls

    # Serving.

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{version}/{phone_number_id}/messages", self._messages, methods=["POST"]),
                Route("/{version}/{phone_number_id}/media", self._upload, methods=["POST"]),
            ]
        )

    async def _messages(self, request: Request) -> JSONResponse:
        arrived = time.monotonic()
        authorization = request.headers.get("authorization")
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        status, answer, headers = await self._answer(request, authorization, body)
        self._record(GraphCall(request.url.path, authorization, body, status, arrived))
        return JSONResponse(answer, status, headers=headers)

    async def _upload(self, request: Request) -> JSONResponse:
        arrived = time.monotonic()
        authorization = request.headers.get("authorization")
        files: dict[str, bytes] = {}
        content_type = request.headers.get("content-type", "")
        fields: dict[str, Any] | None = None
        if content_type.startswith("multipart/form-data"):
            fields = parse_multipart(await request.body(), content_type, files)
        refused = await self._refusal(request, authorization)
        if refused is not None:
            status, answer, headers = refused
        else:
            status, answer, headers = self._take_media(fields, files)
        self._record(GraphCall(request.url.path, authorization, fields, status, arrived))
        return JSONResponse(answer, status, headers=headers)

    def _take_media(
        self, fields: dict[str, Any] | None, files: dict[str, bytes]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        file = (fields or {}).get("file")
        kind = (fields or {}).get("type")
        if (
            fields is None
            or fields.get("messaging_product") != "whatsapp"
            or not isinstance(file, dict)
            or "file" not in files
        ):
            return HTTPStatus.BAD_REQUEST, graph_error(100), {}
        if kind not in MEDIA_TYPES:
            details = f"Param file must be a file with one of the following types: {kind}"
            return HTTPStatus.BAD_REQUEST, graph_error(100, details=details), {}
        media_id = str(10**15 + next(_media_serial))
        with self._lock:
            self._media[media_id] = Media(media_id, kind, file["filename"], files["file"])
        return HTTPStatus.OK, {"id": media_id}, {}

    async def _refusal(
        self, request: Request, authorization: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """Meta's answer before it reads the call (token, number, a programmed failure)."""
        # Meta checks the token first, then the number, then the call itself.
        if authorization != f"Bearer {self.token}":
            error = graph_error(
                190, message="Invalid OAuth access token - Cannot parse access token"
            )
            return HTTPStatus.UNAUTHORIZED, error, {}
        params = request.path_params
        if params["version"] != self.version or params["phone_number_id"] != self.phone_number_id:
            return HTTPStatus.NOT_FOUND, graph_error(100, message="Unsupported post request."), {}
        with self._lock:
            programmed = self._programmed.popleft() if self._programmed else None
        if programmed is not None and programmed.delay_seconds:
            await asyncio.to_thread(self.stopping.wait, programmed.delay_seconds)
        if programmed is not None and programmed.body is not None:
            headers = {"Retry-After": programmed.retry_after} if programmed.retry_after else {}
            return programmed.status, programmed.body, headers
        return None

    async def _answer(
        self, request: Request, authorization: str | None, body: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        refused = await self._refusal(request, authorization)
        if refused is not None:
            return refused
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return HTTPStatus.BAD_REQUEST, graph_error(100), {}
        if body.get("type") == "document" and not self._known_media(body.get("document")):
            return HTTPStatus.BAD_REQUEST, graph_error(100, details="Unknown media id"), {}
        recipient = str(body.get("to", ""))
        contacts = [{"input": recipient, "wa_id": "".join(c for c in recipient if c.isdigit())}]
        answer = {
            "messaging_product": "whatsapp",
            "contacts": contacts,
            "messages": [{"id": new_message_id()}],
        }
        return HTTPStatus.OK, answer, {}

    def _known_media(self, document: Any) -> bool:
        if not isinstance(document, dict):
            return False
        if "link" in document:
            return True
        with self._lock:
            return str(document.get("id")) in self._media

    def _record(self, call: GraphCall) -> None:
        with self._lock:
            self._calls.append(call)
            ready = [w for w in self._waiters if w[2](self._calls)]
            for waiter in ready:
                self._waiters.remove(waiter)
        for loop, event, _ in ready:
            # The waiter's loop is not the server's: wake it from its own thread.
            with contextlib.suppress(RuntimeError):  # that loop has closed meanwhile
                loop.call_soon_threadsafe(event.set)
