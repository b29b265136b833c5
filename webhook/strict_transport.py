"""HSTS: once a browser has reached the service over https, it never tries plain http again.

Sent on every response when the public address is https (AIGUILLAGE_PUBLIC_URL), so that a
counsellor on a café's network cannot be served a forged http page of the admin view. Plain
ASGI, not BaseHTTPMiddleware: it costs nothing per request but one header.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class StrictTransport:
    """Add the HSTS header to every HTTP response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), HEADER]
            await send(message)

        await self.app(scope, receive, send_with_header)
