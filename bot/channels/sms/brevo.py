"""Brevo's transactional SMS endpoint as the outbox sender calls it, over httpx.

``POST {api_url}/transactionalSMS/send`` with the account's ``api-key`` header; Brevo answers
201 with the message's id. (``/transactionalSMS/sms`` is the endpoint Brevo deprecated for
it: https://developers.brevo.com/changelog/deprecated-endpoint-post-v3transactionalsmssms.)
A thin client rather than Brevo's SDK, as for WhatsApp: the outbox already stores, retries
and paces every call, so one POST and its errors in the pipeline's terms are all it needs.

Brevo's errors are ``{"code": "invalid_parameter", "message": "..."}``; only the status and
the code are kept, as a message may quote the number or the text.
"""

from __future__ import annotations

import math
import re
from typing import Any

import httpx

from bot.messaging.messenger import Refused, SlowDown, Unreachable

TIMEOUT = httpx.Timeout(15.0, connect=10.0)
SEND_PATH = "/transactionalSMS/send"
# Without Retry-After nor Brevo's reset header, a 429 waits this long.
HTTP_429_SECONDS = 5.0
MAX_WAIT_SECONDS = 3600.0
RATE_RESET_HEADER = "x-sib-ratelimit-reset"
# 401/403: a key revoked or an IP not yet authorised in Brevo's settings; 402: no SMS credits
# left. An administrator fixes those, and the SMS should then go: retried, not dropped.
FIXABLE_BY_ADMIN = frozenset({401, 402, 403})
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")


class BrevoSms:
    """Sends SMS through Brevo's API; ``send`` answers with Brevo's message id."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        sender: str,
        *,
        report_url: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = httpx.URL(api_url.rstrip("/") + SEND_PATH)
        self.sender = sender
        # Brevo calls this back with each event of the message (webUrl).
        self._report_url = report_url
        self._headers = {"api-key": api_key, "accept": "application/json"}
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=TIMEOUT)

    async def send(self, payload: dict[str, Any]) -> str | None:
        """Send the call's SMS; Brevo's id of it. Errors as SlowDown, Refused or Unreachable."""
        body = {**payload["body"], "sender": self.sender}
        if self._report_url:
            body["webUrl"] = self._report_url
        try:
            response = await self._client.post(self.url, json=body, headers=self._headers)
        except httpx.HTTPError as error:  # connection refused, timeouts, broken answers
            raise Unreachable(type(error).__name__) from error
        if not response.is_success:
            raise translated(response)
        answer = _json(response)
        message_id = answer.get("messageId") if isinstance(answer, dict) else None
        return str(message_id) if isinstance(message_id, int | str) and message_id else None

    async def aclose(self) -> None:
        """Close the HTTP client if this messenger made it."""
        if self._owns_client:
            await self._client.aclose()


def translated(response: httpx.Response) -> Exception:
    """The pipeline's error for a failed answer: its status and Brevo's code, nothing sent."""
    status = response.status_code
    if status == httpx.codes.TOO_MANY_REQUESTS:
        return SlowDown(_wait(response))
    answer = _json(response)
    code = answer.get("code") if isinstance(answer, dict) else None
    reason = f"HTTP {status}" + (f" {code}" if isinstance(code, str) and _CODE.match(code) else "")
    if status >= 500 or status in FIXABLE_BY_ADMIN:
        return Unreachable(reason)
    return Refused(reason)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _wait(response: httpx.Response) -> float:
    """Retry-After, else Brevo's seconds until its limit resets, else a default."""
    for header in ("retry-after", RATE_RESET_HEADER):
        try:
            seconds = float(response.headers.get(header, ""))
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds > 0:
            return min(seconds, MAX_WAIT_SECONDS)
    return HTTP_429_SECONDS
