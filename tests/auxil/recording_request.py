"""A python-telegram-bot request object that records Bot API calls instead of sending them.

    request = RecordingRequest()
    bot = telegram.Bot(TEST_TOKEN, request=request, get_updates_request=request)
    async with bot:                        # getMe, answered with the Aiguillage bot user
        await bot.send_message(42, "hi")
    assert request.sent_texts(42) == ["hi"]

Passing the same instance twice puts getUpdates in the same `calls` list as everything else.
Failures go through PTB's own `BaseRequest._request_wrapper`, so the code under test sees the
real `RetryAfter`, `Forbidden` and `BadRequest` exceptions.
"""

from __future__ import annotations

import json
from typing import Any

from telegram.request import BaseRequest, RequestData

from tests.auxil.bot_api_results import ApiCall, BotApiRecorder

__all__ = ["ApiCall", "RecordingRequest"]


class RecordingRequest(BotApiRecorder, BaseRequest):
    """No network I/O: every call is recorded and answered by `BotApiRecorder.answer`."""

    def __init__(self, *, delay_seconds: float = 0.0, read_timeout: float | None = 5.0) -> None:
        super().__init__(delay_seconds=delay_seconds)
        self._read_timeout = read_timeout
        self.initialized = False

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self.initialized = True

    async def shutdown(self) -> None:
        self.initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, body = await self.answer(url.rsplit("/", 1)[-1], params_of(request_data))
        return status, json.dumps(body).encode()


def params_of(request_data: RequestData | None) -> dict[str, Any]:
    """The call's parameters as Telegram would decode them (JSON round trip: tuples -> lists)."""
    if request_data is None:
        return {}
    params: dict[str, Any] = json.loads(json.dumps(request_data.parameters))
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        size = len(content) if isinstance(content, bytes) else None
        params[name] = {"filename": filename, "content_type": mime_type, "size": size}
    return params
