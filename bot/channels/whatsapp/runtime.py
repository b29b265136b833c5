"""The WhatsApp channel of one process: the messaging pipeline around WhatsApp's adapter.

The pipeline (bot/messaging/: inbox, processor, outbox, sender) is the same for any messenger;
WhatsApp brings its steps (steps.py) and its Graph API calls (graph_api.py). A notification
from Meta may carry several messages (each stored and applied on its own, in order) and the
statuses of what we sent: a failure saying the person cannot be reached marks them so, the
others are only counted in the log.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.channels.whatsapp import CHANNEL
from bot.channels.whatsapp.graph_api import UNREACHABLE_PERSON, WhatsAppMessenger
from bot.channels.whatsapp.parse import items_of, read_item, value_errors
from bot.channels.whatsapp.steps import WhatsAppSteps
from bot.channels.whatsapp.updates import Item
from bot.clock import utcnow
from bot.conversations.repository import set_reachable
from bot.conversations.service import ConversationService
from bot.messaging.pace import Clock
from bot.messaging.pipeline import Pipeline
from bot.messaging.reminders import ReminderJob
from bot.settings import Settings
from bot.storage.database import Database

logger = logging.getLogger(__name__)
WEBHOOK_PATH = "/whatsapp/webhook"
# The Cloud API's default throughput: 80 messages a second per business number.
MESSAGES_PER_SECOND = 80.0


class WhatsAppRuntime:
    """Intake, processing and sending for WhatsApp in this process."""

    def __init__(
        self,
        settings: Settings,
        service: ConversationService,
        database: Database,
        *,
        messenger: WhatsAppMessenger | None = None,
        clock: Clock | None = None,
        reminders: ReminderJob | None = None,
    ) -> None:
        assert settings.whatsapp_enabled
        assert settings.whatsapp_token is not None
        assert settings.whatsapp_phone_number_id is not None
        self.settings = settings
        self.database = database
        self.phone_number_id = settings.whatsapp_phone_number_id
        self.messenger = messenger or WhatsAppMessenger(
            settings.whatsapp_api_url,
            settings.whatsapp_phone_number_id,
            settings.whatsapp_token.get_secret_value(),
        )
        self.pipeline = Pipeline(
            database,
            WhatsAppSteps(service),
            self.messenger,
            sqlite=settings.is_sqlite,
            overall_rate=MESSAGES_PER_SECOND,
            clock=clock,
            reminders=reminders,
        )

    async def start(self, *, background: bool = True) -> None:
        """Start the background tasks (the webhook is set up in Meta's app dashboard)."""
        self.pipeline.start(background=background)

    async def stop(self) -> None:
        """Stop the background tasks; what is queued stays in the database for next time."""
        await self.pipeline.stop()
        await self.messenger.aclose()

    async def accept(self, notification: Any) -> int:
        """Store and apply what a notification carries; the number of new messages.

        Each message is its own inbox delivery (Meta's id de-duplicates a retried
        notification); statuses are not stored: only a failure changes anything.
        """
        for code in value_errors(notification):
            logger.warning("whatsapp notification error", extra={"code": code})
        new = 0
        for item in items_of(notification, self.phone_number_id):
            if item["kind"] == "status":
                await self._failed(item)
                continue
            accepted = await self.pipeline.accept(dict(item))
            new += accepted.new
        return new

    async def _failed(self, item: Item) -> None:
        """A message of ours that WhatsApp could not deliver."""
        code = read_item(item, own_number="").failed_code
        # Meta's code only: the status names the person's number.
        logger.warning("whatsapp message not delivered", extra={"code": code})
        if code in UNREACHABLE_PERSON:
            async with self.database.transaction() as tx:
                await set_reachable(
                    tx, channel=CHANNEL, external_id=item["wa_id"], reachable=False, now=utcnow()
                )
