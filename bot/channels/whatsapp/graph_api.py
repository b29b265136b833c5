"""The Cloud API's messages endpoint as the messaging pipeline calls it, over httpx.

A client of our own rather than a framework such as pywa: the pipeline already stores every
call first, retries, paces and sets aside (bot/messaging), so all it needs is one POST and its
errors told as ``SlowDown``, ``Refused`` or ``Unreachable``. A hundred lines are easier to audit
than a framework's own retries and handlers would be to switch off.

Meta's error codes: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
(build on ``code``, not on titles nor HTTP statuses, as that page recommends).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

import httpx

from bot.channels.whatsapp import CHANNEL
from bot.messaging.messenger import Refused, SlowDown, Unreachable

TIMEOUT = httpx.Timeout(15.0, connect=10.0)

# Throttling codes and how long to wait when Meta sends no Retry-After (it usually does not).
SLOW_DOWN_SECONDS = {
    4: 60.0,  # the app's call rate limit, counted over an hour: a minute's pause, then try
    80007: 60.0,  # the WhatsApp Business Account's rate limit, likewise
    130429: 1.0,  # the number's throughput (80 messages a second by default): a second is enough
    # Pair rate limit: about one message every 6 seconds to the same person ("Pair rate
    # limits", developers.facebook.com/documentation/business-messaging/whatsapp/throughput).
    131056: 6.0,
}
HTTP_429_SECONDS = 5.0  # a 429 without a code we know
MAX_WAIT_SECONDS = 3600.0
# "Something went wrong", "Service unavailable" and Graph's "temporarily unavailable" (code 2).
TRY_AGAIN_LATER = frozenset({2, 131000, 131016})
# More than 24 h since the person's last message: only a template can reach them now.
REENGAGEMENT = 131047
# Not a WhatsApp user, or blocked us (131026); stopped our marketing messages (131050).
UNREACHABLE_PERSON = frozenset({131026, 131050})
PAIR_RATE_LIMIT = 131056
_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")
TITLE_MAX = 80
# The document types Meta takes ("Supported media types": no text/calendar): other files are
# uploaded as plain text, their name keeping the extension WhatsApp picks an icon and an app by.
DOCUMENT_TYPES = frozenset(
    {
        "text/plain",
        "application/pdf",
        "application/vnd.ms-powerpoint",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
FALLBACK_DOCUMENT_TYPE = "text/plain"
SEND_DOCUMENT = "sendDocument"
# The payload's fixed vocabulary, which a title may name without quoting anyone.
_STRUCTURAL_KEYS = frozenset({"messaging_product", "recipient_type", "type"})


class WhatsAppMessenger:
    """Sends the outbox's calls to ``{api_url}/{phone_number_id}/messages``; a document is
    first uploaded to ``…/media``."""

    channel = CHANNEL
    # Every call the WhatsApp renderer makes is a message in the chat: all held to the pace.
    unpaced: frozenset[str] = frozenset()

    def __init__(
        self,
        api_url: str,
        phone_number_id: str,
        token: str,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        # Parsed once: httpx would parse a URL string at every call.
        self.url = httpx.URL(f"{api_url.rstrip('/')}/{phone_number_id}/messages")
        self.media_url = httpx.URL(f"{api_url.rstrip('/')}/{phone_number_id}/media")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=TIMEOUT)

    async def call(self, method: str, payload: dict[str, Any]) -> None:
        """POST the payload (``method`` only names it for the outbox, but for a document: see
        ``send_document``); errors in the pipeline's terms. Meta's answer (the message's id) is
        not read: nothing here needs it."""
        if method == SEND_DOCUMENT:
            await self.send_document(payload)
            return
        await self._post(self.url, payload, json=payload)

    async def send_document(self, payload: dict[str, Any]) -> None:
        """Upload the stored file (render.document_call), then send it by its media id.

        Every attempt uploads again: an upload whose message then failed is left to expire on
        Meta's side (30 days), which is simpler than remembering media ids across retries.
        """
        document = payload.get("document")
        if not isinstance(document, dict):
            raise Refused("document: missing")
        try:
            content = base64.b64decode(str(document.get("content_base64")), validate=True)
        except (binascii.Error, ValueError) as error:
            raise Refused("document: content_base64 is not base64") from error
        filename = str(document.get("filename") or "document")
        declared = str(document.get("mime_type") or "")
        kind = declared if declared in DOCUMENT_TYPES else FALLBACK_DOCUMENT_TYPE
        uploaded = await self._post(
            self.media_url,
            payload,
            data={"messaging_product": "whatsapp", "type": kind},
            files={"file": (filename, content, kind)},
        )
        media_id = _json(uploaded)
        media_id = media_id.get("id") if isinstance(media_id, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise Unreachable("media upload answered without an id")
        sent: dict[str, Any] = {"id": media_id, "filename": filename}
        if payload.get("caption"):
            sent["caption"] = payload["caption"]
        message = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": payload.get("to"),
            "type": "document",
            "document": sent,
        }
        await self._post(self.url, payload, json=message)

    async def _post(self, url: httpx.URL, payload: dict[str, Any], **body: Any) -> httpx.Response:
        """One POST to Meta; a refusal told in the pipeline's terms (``payload``: what it must
        not quote)."""
        try:
            response = await self._client.post(url, headers=self._headers, **body)
        except httpx.HTTPError as error:  # connection refused, timeouts, broken answers
            raise Unreachable(type(error).__name__) from error
        if not response.is_success:
            raise translated(response, payload)
        return response

    async def aclose(self) -> None:
        """Close the HTTP client if this messenger made it."""
        if self._owns_client:
            await self._client.aclose()


def translated(response: httpx.Response, payload: dict[str, Any]) -> Exception:
    """The pipeline's error for a failed answer, naming Meta's code and title but nothing sent."""
    error = _json(response)
    error = error.get("error") if isinstance(error, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    status = response.status_code
    if status == httpx.codes.TOO_MANY_REQUESTS or code in SLOW_DOWN_SECONDS:
        default = (
            HTTP_429_SECONDS if code is None else SLOW_DOWN_SECONDS.get(code, HTTP_429_SECONDS)
        )
        # The pair limit is about one person: the others need not wait.
        return SlowDown(_retry_after(response) or default, chat_only=code == PAIR_RATE_LIMIT)
    reason = _reason(status, code, error.get("message"), payload)
    if status >= 500 or code in TRY_AGAIN_LATER:
        return Unreachable(reason)
    if code == REENGAGEMENT:
        return Refused(f"{REENGAGEMENT} re-engagement needed")
    return Refused(reason, blocked=code in UNREACHABLE_PERSON)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None  # absent, or an HTTP date: the code's default will do
    return min(seconds, MAX_WAIT_SECONDS) if math.isfinite(seconds) and seconds > 0 else None


def _reason(status: int, code: int | None, message: Any, payload: dict[str, Any]) -> str:
    """``<code> <title>`` (or ``HTTP <status>``): outbox rows and logs keep it, so Meta's title
    is left out whenever it quotes anything we sent (a text, the person's number).
    """
    head = str(code) if code is not None else f"HTTP {status}"
    if not isinstance(message, str):
        return head
    title = _CODE_PREFIX.sub("", message.splitlines()[0] if message else "").strip()
    if not title or _quotes(title, payload):
        return head
    return f"{head} {title[:TITLE_MAX]}"


def _quotes(title: str, payload: Any) -> bool:
    if isinstance(payload, str):
        return len(payload) >= 3 and payload in title
    if isinstance(payload, dict):
        return any(
            _quotes(title, value) for key, value in payload.items() if key not in _STRUCTURAL_KEYS
        )
    if isinstance(payload, list):
        return any(_quotes(title, value) for value in payload)
    return False
