"""The Telegram channel of one process: the bot client and its background tasks."""

from __future__ import annotations

import asyncio
import logging
from http.cookiejar import CookieJar
from typing import Any, cast

import httpx
from telegram import Bot, BotCommand
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.channels.telegram.parse import MalformedUpdate, clean_update
from bot.conversations.service import ConversationService
from bot.messaging.processor import Accepted, UpdateProcessor
from bot.messaging.reminders import ReminderJob
from bot.messaging.sender import Clock, OutboxSender
from bot.settings import Settings
from bot.storage.database import Database
from flows.i18n import LANGUAGES, text

logger = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
MAX_PARSED_URLS = 64
MENU = ("start", "retour", "recommencer", "conseiller", "langue", "mes_donnees", "supprimer")


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


class TelegramRuntime:
    """Intake, processing, sending and reminders for Telegram in this process."""

    def __init__(
        self,
        settings: Settings,
        service: ConversationService,
        database: Database,
        *,
        bot: Bot | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.bot = bot or make_bot(settings)
        # SQLite has one writer at a time: parallel chats would only wait for each other.
        concurrency = 1 if settings.is_sqlite else 8
        self.processor = UpdateProcessor(service, database, concurrency=concurrency)
        self.sender = OutboxSender(database, self.bot, clock=clock)
        self.reminders = ReminderJob(service, database)
        self.processor.on_queued = self.sender.deliver
        self.processor.also_in_step = self.sender.mark_sent_in
        self._background = False
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    async def start(self, *, webhook: bool = True, background: bool = True) -> None:
        """Connect, publish the command menu and the webhook, and start the background tasks."""
        await self.bot.initialize()
        await self._publish_commands()
        if webhook and self.settings.public_url:
            secret = self.settings.telegram_webhook_secret
            await self.bot.set_webhook(
                url=self.settings.public_url + WEBHOOK_PATH,
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=ALLOWED_UPDATES,
            )
            logger.info("telegram webhook set")
        self._background = background
        if background:
            self._stopping.clear()
            jobs = (self.processor.run, self.sender.run, self.reminders.run)
            self._tasks = [asyncio.create_task(job(self._stopping)) for job in jobs]

    async def stop(self) -> None:
        """Stop the background tasks; what is queued stays in the database for next time."""
        # Let each job finish the step it is in (a transaction cut short leaks its connection).
        await self.processor.drain()
        self._stopping.set()
        self.processor.wake.set()
        self.sender.wake.set()
        _, late = await asyncio.wait(self._tasks, timeout=10) if self._tasks else (set(), set())
        for task in late:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.sender.flush()
        self._tasks.clear()
        await self.bot.shutdown()

    async def accept(
        self, update: dict[str, Any], *, webhook: bool = False, raw: bytes | None = None
    ) -> Accepted:
        """Store an update durably (once) and apply it; ``raw``: the JSON it was parsed from."""
        try:
            update = clean_update(update, raw)
        except MalformedUpdate as error:
            # Forged: trying again would fail again. The id only: nothing the sender wrote.
            logger.warning(
                "telegram update ignored: %s", error, extra={"update_id": update.get("update_id")}
            )
            return Accepted(False)
        accepted = await self.processor.accept(update, webhook=webhook)
        if not self._background:
            # Step-by-step tests see the replies once the update is accepted.
            await self.processor.drain()
        return accepted

    async def _publish_commands(self) -> None:
        for language in LANGUAGES:
            commands = [
                BotCommand(name, text(f"telegram.command.{name}", language)) for name in MENU
            ]
            await self.bot.set_my_commands(commands, language_code=language)
        # People whose Telegram is in another language get the French menu.
        french = [BotCommand(name, text(f"telegram.command.{name}", "fr")) for name in MENU]
        await self.bot.set_my_commands(french)
