"""What both Bot API fakes share: canned results, programmed failures, recorded calls, updates.

`BotApiRecorder` is the base of `RecordingRequest` (in-process, no I/O) and `FakeBotApi` (a
real HTTP server in a thread). It is thread-safe: every shared structure is guarded by a lock.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import warnings
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

TEST_TOKEN = "123456:TEST-token-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
BOT_USER: dict[str, Any] = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Aiguillage",
    "username": "AiguillageBot",
}
LONG_POLL_CAP_SECONDS = 1.0
BLOCKED = "Forbidden: bot was blocked by the user"

# Form values arrive as strings; these stay strings even when they look like JSON ("42", "true").
TEXT_PARAMS = frozenset(
    {"text", "caption", "title", "description", "short_description", "question", "explanation"}
    | {"query", "url", "secret_token", "parse_mode", "action", "name", "emoji", "language_code"}
    | {"inline_message_id", "business_connection_id", "message_effect_id", "payload"}
)
_EDITS = {"editmessagetext", "editmessagecaption", "editmessagereplymarkup"}


@dataclass(frozen=True)
class ApiCall:
    """One Bot API call: `params` hold decoded values (reply_markup is a dict, chat_id an int)."""

    method: str
    params: dict[str, Any]
    status: int = 200  # the HTTP status answered: 200, or the programmed failure's
    at: float = 0.0  # time.monotonic() when the call arrived


@dataclass(frozen=True)
class Failure:
    status: int
    description: str
    retry_after: int | None = None

    def body(self) -> dict[str, Any]:
        body = {"ok": False, "error_code": self.status, "description": self.description}
        # PTB raises RetryAfter whenever parameters.retry_after is set, so only for a 429.
        if self.status == HTTPStatus.TOO_MANY_REQUESTS and self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def default_description(status: int, retry_after: int | None) -> str:
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return f"Too Many Requests: retry after {retry_after}"
    if status == HTTPStatus.FORBIDDEN:
        return BLOCKED
    if status == HTTPStatus.BAD_REQUEST:
        return "Bad Request: programmed failure"
    return HTTPStatus(status).phrase


def decode_param(name: str, value: Any) -> Any:
    """A form or JSON value as Telegram reads it: JSON-decoded unless a free-text parameter."""
    if not isinstance(value, str) or name in TEXT_PARAMS or name.endswith("query_id"):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # "@channel", "HTML", a file_id...


def chat_for(chat_id: Any) -> dict[str, Any]:
    text = str(chat_id)
    if not text.lstrip("-").isdigit():
        name = text.lstrip("@")
        return {"id": -1001000000001, "type": "channel", "title": name, "username": name}
    number = int(text)
    if number > 0:
        return {"id": number, "type": "private", "first_name": "Test"}
    return {"id": number, "type": "supergroup" if text.startswith("-100") else "group"}


def text_update(chat_id: int, text: str, *, update_id: int | None = None) -> dict[str, Any]:
    """A private-chat text message update, ready for `queue_update`."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Test"}
    message = {"message_id": 1, "date": int(time.time()), "chat": chat_for(chat_id)}
    message |= {"from": user, "text": text}
    update: dict[str, Any] = {"message": message}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def retry_after_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after in seconds: int, or timedelta with PTB_TIMEDELTA (no warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def max_in_window(times: list[float], window: float) -> int:
    times, best, start = sorted(times), 0, 0
    for end, moment in enumerate(times):
        while start <= end and moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class BotApiRecorder:
    """Records calls, answers them like the Bot API would, and fails them when told to."""

    def __init__(self, *, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self._lock = threading.Lock()
        self._calls: list[ApiCall] = []
        self._next_failures: defaultdict[str, deque[Failure]] = defaultdict(deque)
        self._chat_failures: dict[str, Failure] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id = 1
        self._webhook_url = ""

    # What tests program.

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, description: str = ""
    ) -> None:
        """Fail the next call to `method` (one per call of fail_next); 429 carries retry_after."""
        text = description or default_description(status, retry_after)
        with self._lock:
            self._next_failures[method.lower()].append(Failure(status, text, retry_after))

    def fail_chat(self, chat_id: int | str, status: int = 403, description: str = BLOCKED) -> None:
        """Fail every call addressed to `chat_id` from now on (until `clear`)."""
        with self._lock:
            self._chat_failures[str(chat_id)] = Failure(status, description)

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (an update_id is given if missing); return its id."""
        with self._lock:
            update = {"update_id": self._next_update_id} | update
            self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
            self._updates.append(update)
            return int(update["update_id"])

    def clear(self) -> None:
        """Forget calls, programmed failures and queued updates."""
        with self._lock:
            self._calls.clear()
            self._next_failures.clear()
            self._chat_failures.clear()
            self._updates.clear()

    # What tests assert.

    @property
    def calls(self) -> list[ApiCall]:
        """A snapshot of every call so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of the successful sendMessage calls, to one chat or to all."""
        return [call.params["text"] for call in self._sent(chat_id)]

    def max_rate_per_chat(self, window: float = 1.0) -> int:
        """Most messages sent to one chat within any `window` seconds."""
        by_chat: defaultdict[str, list[float]] = defaultdict(list)
        for call in self._sent(None):
            by_chat[str(call.params.get("chat_id"))].append(call.at)
        return max((max_in_window(times, window) for times in by_chat.values()), default=0)

    def max_rate_overall(self, window: float = 1.0) -> int:
        """Most messages sent (to any chat) within any `window` seconds."""
        return max_in_window([call.at for call in self._sent(None)], window)

    def _sent(self, chat_id: int | str | None) -> list[ApiCall]:
        return [
            call
            for call in self.calls_to("sendMessage")
            if call.status == 200
            and (chat_id is None or str(call.params["chat_id"]) == str(chat_id))
        ]

    # How calls are answered.

    async def take_webhook_answer(self, body: bytes) -> None:
        """Make the call a webhook's response carries, as Telegram does (its result is lost)."""
        answer = json.loads(body) if body else {}
        if isinstance(answer, dict) and "method" in answer:
            await self.answer(answer.pop("method"), answer)

    async def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Record the call and return (HTTP status, Bot API JSON body)."""
        key = method.lower()
        with self._lock:
            failure = self._failure_for(key, params)
            status = failure.status if failure else 200
            self._calls.append(ApiCall(method, params, status, time.monotonic()))
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if failure:
            return failure.status, failure.body()
        if key == "getupdates":
            return 200, {"ok": True, "result": await self._get_updates(params)}
        with self._lock:
            return 200, {"ok": True, "result": self._result(key, params)}

    def _failure_for(self, key: str, params: dict[str, Any]) -> Failure | None:
        if self._next_failures[key]:
            return self._next_failures[key].popleft()
        if "chat_id" in params:
            return self._chat_failures.get(str(params["chat_id"]))
        return None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), LONG_POLL_CAP_SECONDS)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:  # updates below the offset are confirmed, so forgotten
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.01)

    def _result(self, key: str, params: dict[str, Any]) -> Any:
        if key == "getme":
            return BOT_USER
        if key == "getwebhookinfo":
            info = {"url": self._webhook_url, "has_custom_certificate": False}
            return info | {"pending_update_count": len(self._updates)}
        if key in ("setwebhook", "deletewebhook"):
            self._webhook_url = str(params.get("url", "")) if key == "setwebhook" else ""
        if key == "sendmediagroup":
            return [self._message(params) for _ in params.get("media", [])]
        if key.startswith("send") and key != "sendchataction":
            return self._message(params)
        if key in _EDITS and "inline_message_id" not in params:
            return self._message(params, params.get("message_id"))
        return True

    def _message(self, params: dict[str, Any], message_id: Any = None) -> dict[str, Any]:
        edited = message_id is not None
        if message_id is None:
            message_id, self._next_message_id = self._next_message_id, self._next_message_id + 1
        now, chat = int(time.time()), chat_for(params.get("chat_id", 0))
        message = {"message_id": int(message_id), "date": now, "chat": chat, "from": BOT_USER}
        message |= {field: params[field] for field in ("text", "caption") if field in params}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes inline keyboards only
        if edited:
            message["edit_date"] = now
        return message
