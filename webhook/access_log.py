"""The access log: one line per request with method, path, status and duration, nothing more.

Uvicorn's own access line names the client's address and the whole target, query string
included, where a web chat's session token may travel; the README promises logs without
personal data, so ``serve`` turns that line off and this middleware writes its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)
# Paths that carry a secret (an appointment link's token): only their prefix is logged.
SECRET_PATHS = ("/rdv/", "/api/chat/calendar/")


class AccessLog:
    """ASGI middleware logging each HTTP request once it is answered (or has failed)."""

    def __init__(self, app: ASGIApp, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # At WARNING (the benchmark, quiet deployments) the request costs nothing extra.
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = self.clock()
        # What the client gets when the application fails before answering.
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            # scope["path"] never holds the query string; the client address is left out.
            logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": _loggable(scope["path"]),
                    "status": status,
                    "duration_ms": round((self.clock() - started) * 1000, 1),
                },
            )


def _loggable(path: str) -> str:
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path
