"""The SMS channel's ``Messenger`` for the outbox sender: a provider's send, then its mark.

Once the provider took an SMS it is ``sent`` (with the provider's id, which its reports
name); once it refused it for good, ``failed``. Delivery reports move it on from there
(bot/channels/sms/reports.py).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bot.channels.sms import CHANNEL, store
from bot.channels.sms.store import SmsStatus
from bot.messaging.messenger import Refused
from bot.messaging.pace import Clock
from bot.storage.database import Database

logger = logging.getLogger(__name__)


class SmsProvider(Protocol):
    """An SMS API (Brevo's, or the log of what would be sent)."""

    async def send(self, payload: dict[str, Any]) -> str | None:
        """Send the outbox call's SMS; the provider's id of it, if it gives one."""

    async def aclose(self) -> None:
        """Release what the provider holds (its HTTP client)."""


class SmsMessenger:
    """What the outbox sender calls for the ``sms`` channel."""

    channel = CHANNEL
    # Every call is an SMS to a person: all held to the per-number pace.
    unpaced: frozenset[str] = frozenset()

    def __init__(self, provider: SmsProvider, database: Database, clock: Clock) -> None:
        self.provider = provider
        self.database = database
        self.clock = clock

    async def call(self, method: str, payload: dict[str, Any]) -> None:
        """Send the SMS and mark it; the provider's errors go on to the sender."""
        sms_id = payload.get("sms_id")
        try:
            provider_id = await self.provider.send(payload)
        except Refused as error:
            await self._mark(sms_id, None, SmsStatus.FAILED, str(error))
            raise
        await self._mark(sms_id, provider_id, SmsStatus.SENT, None)

    async def _mark(
        self, sms_id: Any, provider_id: str | None, status: SmsStatus, detail: str | None
    ) -> None:
        if not isinstance(sms_id, int):
            return
        try:
            async with self.database.transaction() as tx:
                await store.advance(
                    tx,
                    sms_id=sms_id,
                    provider_id=provider_id,
                    status=status,
                    detail=detail,
                    now=self.clock.utcnow(),
                )
        except Exception:
            # The SMS went (or was refused) all the same: the sender must record it so, or
            # it would send it again. Its status waits for the provider's report.
            logger.exception("sms status not recorded", extra={"sms_id": sms_id})
