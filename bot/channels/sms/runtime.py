"""The SMS channel of one process: the shared outbox sender, for a channel with no inbox.

SMS only goes out (reminders queued by bot/channels/sms/queue.py); what comes back, delivery
reports and STOP answers, is read by the webhook (webhook/channels/sms.py) and applied by
bot/channels/sms/reports.py. So of a messenger's pipeline (bot/messaging/pipeline.py) only the
sender runs here: the same OutboxSender, retries, pacing and leases as every channel's.

With no API key the provider is ``LoggingSms``: the SMS are "sent" to the log, so that the
rest works the same without an account.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from urllib.parse import quote

from bot.channels.sms.brevo import BrevoSms
from bot.channels.sms.dry_run import LoggingSms
from bot.channels.sms.messenger import SmsMessenger, SmsProvider
from bot.channels.sms.reports import apply_reports, read_reports
from bot.messaging.outbox import SentMarks
from bot.messaging.pace import Clock
from bot.messaging.pipeline import STOP_WITHIN
from bot.messaging.sender import OutboxSender
from bot.settings import Settings
from bot.storage.database import Database

WEBHOOK_PATH = "/sms/webhook"
# Brevo takes about ten requests a second on its sending endpoints; reminders are few.
SMS_PER_SECOND = 10.0


class SmsRuntime:
    """Sending SMS, and reading what the provider reports about them, in this process."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        provider: SmsProvider | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock or Clock()
        # Off (logged only) without a key, unless a test gives its provider.
        self.enabled = settings.sms_api_key is not None or provider is not None
        self.provider = provider or _provider(settings)
        self.sender = OutboxSender(
            database,
            SmsMessenger(self.provider, database, self.clock),
            SentMarks(database),
            overall_rate=SMS_PER_SECOND,
            clock=self.clock,
        )
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def webhook_token(self) -> str | None:
        """The secret the provider's calls must carry; None: the webhook is off."""
        token = self.settings.sms_webhook_token
        return token.get_secret_value() if self.enabled and token is not None else None

    async def start(self, *, background: bool = True) -> None:
        """Start sending what is queued; without ``background`` tests call ``send_pending``."""
        if background and self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.sender.run(self._stopping))

    async def stop(self) -> None:
        """Stop sending; what is queued stays in the database for next time."""
        if self._task is not None:
            self._stopping.set()
            self.sender.wake.set()
            _, late = await asyncio.wait([self._task], timeout=STOP_WITHIN)
            for task in late:
                task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.sender.flush()
        await self.provider.aclose()

    async def send_pending(self) -> int:
        """Send what is due now (step-by-step tests); the number of SMS the provider took."""
        sent = await self.sender.send_pending()
        await self.sender.flush()
        return sent

    async def accept_reports(self, payload: object, *, now: datetime | None = None) -> int:
        """Apply a webhook call's events; how many were about an SMS of ours."""
        reports = read_reports(payload)
        return await apply_reports(self.database, reports, now=now or self.clock.utcnow())


def _provider(settings: Settings) -> SmsProvider:
    if settings.sms_api_key is None:
        return LoggingSms()
    token = settings.sms_webhook_token
    report_url = (
        f"{settings.public_url}{WEBHOOK_PATH}?token={quote(token.get_secret_value(), safe='')}"
        if settings.public_url and token is not None
        else None
    )
    return BrevoSms(
        settings.sms_api_url,
        settings.sms_api_key.get_secret_value(),
        settings.sms_sender,
        report_url=report_url,
    )
