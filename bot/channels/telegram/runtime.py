"""The Telegram channel of one process: the messaging pipeline around Telegram's adapter.

The pipeline (bot/messaging/: inbox, processor, outbox, sender, reminders) is the same for any
messenger; Telegram brings its steps (steps.py), its API calls (messenger.py) and its menu.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, BotCommand

from bot.channels.payloads import MalformedUpdate, clean_update
from bot.channels.telegram.messenger import TelegramMessenger, make_bot
from bot.channels.telegram.steps import TelegramSteps
from bot.conversations.service import ConversationService
from bot.messaging.pace import Clock
from bot.messaging.pipeline import Pipeline
from bot.messaging.processor import Accepted
from bot.messaging.reminders import ReminderJob
from bot.settings import Settings
from bot.storage.database import Database
from flows.i18n import LANGUAGES, text

logger = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
# The Bot API's overall limit: about 30 messages a second.
MESSAGES_PER_SECOND = 30.0
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
MENU = ("start", "retour", "recommencer", "conseiller", "langue", "mes_donnees", "supprimer")


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
        reminders: ReminderJob | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.bot = bot or make_bot(settings)
        self.pipeline = Pipeline(
            database,
            TelegramSteps(service),
            TelegramMessenger(self.bot),
            sqlite=settings.is_sqlite,
            overall_rate=MESSAGES_PER_SECOND,
            clock=clock,
            reminders=reminders,
        )

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
        self.pipeline.start(background=background)

    async def stop(self) -> None:
        """Stop the background tasks; what is queued stays in the database for next time."""
        await self.pipeline.stop()
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
        return await self.pipeline.accept(update, webhook=webhook)

    async def _publish_commands(self) -> None:
        for language in LANGUAGES:
            commands = [
                BotCommand(name, text(f"telegram.command.{name}", language)) for name in MENU
            ]
            await self.bot.set_my_commands(commands, language_code=language)
        # People whose Telegram is in another language get the French menu.
        french = [BotCommand(name, text(f"telegram.command.{name}", "fr")) for name in MENU]
        await self.bot.set_my_commands(french)
