"""The Bot API as the messaging pipeline calls it, through python-telegram-bot's real client."""

from __future__ import annotations

import base64
import binascii
import warnings
from datetime import timedelta
from http.cookiejar import CookieJar
from typing import Any, cast

import httpx
from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.warnings import PTBUserWarning

from bot.channels.telegram import CHANNEL
from bot.messaging.messenger import Refused, SlowDown, Unreachable
from bot.settings import Settings

MAX_PARSED_URLS = 64
# do_api_request suggests the typed method for a method PTB knows, on every call: they are
# exactly what TelegramMessenger.call avoids (see there). pyproject.toml lets the tests ignore
# it too.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.", category=PTBUserWarning, module=__name__
)


class _NoCookies(CookieJar):
    """The Bot API sets no cookies; httpx would parse every answer's headers looking for them."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


class _ParsedUrlRequest(HTTPXRequest):
    """PTB's HTTP client, parsing each method's URL once instead of at every call.

    httpx parses a URL string at every request (about a tenth of a Bot API call's CPU) and takes
    its own URL objects as they are. ``do_request`` is PTB's documented extension point.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._parsed: dict[str, httpx.URL] = {}

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        # PTB's own type for these (a float, None or its DEFAULT_NONE) lives in a private module.
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        parsed = self._parsed.get(url)
        if parsed is None:
            if len(self._parsed) >= MAX_PARSED_URLS:
                self._parsed.clear()  # one URL per Bot API method: never expected
            parsed = self._parsed[url] = httpx.URL(url)
        return await super().do_request(
            cast(str, parsed),
            method,
            request_data,
            read_timeout,
            write_timeout,
            connect_timeout,
            pool_timeout,
        )


def make_bot(settings: Settings) -> Bot:
    """The python-telegram-bot client, pointed at Telegram or at another Bot API server."""
    assert settings.telegram_token is not None
    request = _ParsedUrlRequest(
        connection_pool_size=32,
        read_timeout=15,
        connect_timeout=10,
        httpx_kwargs={"cookies": _NoCookies()},
    )
    return Bot(
        settings.telegram_token.get_secret_value(),
        base_url=settings.telegram_api_url,
        request=request,
        get_updates_request=HTTPXRequest(read_timeout=40),
    )


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramMessenger:
    """Makes the outbox's calls with PTB's public ``Bot.do_api_request``."""

    channel = CHANNEL
    # Answering a press, showing "typing…" and redrawing a keyboard are not messages.
    unpaced = frozenset({"answerCallbackQuery", "sendChatAction", "editMessageReplyMarkup"})

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def call(self, method: str, payload: dict[str, Any]) -> None:
        """One call through PTB's real HTTP client, its errors told in the pipeline's terms.

        The outbox holds ready Bot API parameters (keyboards as dicts); the typed ``Bot``
        methods would also build a Message from every answer, which nobody reads (four times
        the CPU of the call).
        """
        try:
            await self.bot.do_api_request(method, api_kwargs=_with_upload(payload))
        except RetryAfter as error:
            raise SlowDown(_seconds(error.retry_after)) from error
        except Forbidden as error:
            # The person blocked the bot (or left the chat): nothing will reach them.
            raise Refused(f"Forbidden: {error}", blocked=True) from error
        except BadRequest as error:
            # Telegram will never accept this call (e.g. a callback query too old).
            raise Refused(f"BadRequest: {error}") from error
        except NetworkError as error:
            raise Unreachable(f"{type(error).__name__}: {error}") from error


def _with_upload(payload: dict[str, Any]) -> dict[str, Any]:
    """The parameters with a stored document (render.document_call's ``content_base64``) as a
    file PTB uploads in a multipart body; other parameters as they are."""
    document = payload.get("document")
    if not isinstance(document, dict) or "content_base64" not in document:
        return payload  # a file_id or a URL Telegram fetches itself
    try:
        content = base64.b64decode(document["content_base64"], validate=True)
    except (binascii.Error, TypeError, ValueError) as error:
        raise Refused("document: content_base64 is not base64") from error
    upload = InputFile(content, filename=str(document.get("filename") or "document"))
    if document.get("mime_type"):
        upload.mimetype = str(document["mime_type"])  # else guessed from the file name
    return payload | {"document": upload}
