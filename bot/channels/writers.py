"""Writing first to a person, on the channels that can (a counsellor's message, a reminder).

The web chat and the console cannot be written to: the web page polls for counsellors'
messages (bot/conversations/counsellor.py), and reminders go to channels that can only.
WhatsApp can be written to freely within 24 hours of the person's last message, and after
that only with a template PôleS had approved (bot/channels/whatsapp/window.py); without one
for the purpose, the person can be reached by phone only, and the caller says so.
A new messenger adds its renderer here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram import render as telegram
from bot.channels.whatsapp import CHANNEL as WHATSAPP
from bot.channels.whatsapp import render as whatsapp
from bot.channels.whatsapp import window
from bot.messaging import outbox
from bot.messaging.outbox import ApiCall
from bot.settings import Settings
from bot.storage.database import Transaction
from flows.i18n import Language
from flows.render import RenderedMessage

# The channels a reminder can reach.
WRITABLE = frozenset({TELEGRAM, WHATSAPP})
# Why we write first: each purpose has its own WhatsApp template.
Purpose = Literal["reminder", "counsellor", "appointment"]


@dataclass(frozen=True)
class WhatsAppTemplates:
    """The approved templates sent outside the 24-hour window, by purpose (None: none)."""

    reminder: str | None = None
    counsellor: str | None = None
    # A session's reminder, move or cancellation: its text is the template's one parameter.
    appointment: str | None = None
    language: str = "fr"

    @classmethod
    def from_settings(cls, settings: Settings) -> WhatsAppTemplates:
        return cls(
            reminder=settings.whatsapp_template_reminder,
            counsellor=settings.whatsapp_template_counsellor,
            appointment=settings.whatsapp_template_appointment,
            language=settings.whatsapp_template_language,
        )


@dataclass(frozen=True)
class Writers:
    """How to write first to a person on each channel that can be written to."""

    templates: WhatsAppTemplates = WhatsAppTemplates()
    # The channels a reminder can reach.
    channels: frozenset[str] = WRITABLE

    async def write(
        self,
        tx: Transaction,
        channel: str,
        external_id: str,
        messages: list[RenderedMessage],
        *,
        step: str | None,
        language: Language,
        purpose: Purpose,
        now: datetime,
    ) -> bool:
        """Queue these messages for the person in the outbox; False where we cannot write."""
        calls = await self.calls_to(
            tx,
            channel,
            external_id,
            messages,
            step=step,
            language=language,
            purpose=purpose,
            now=now,
        )
        if calls:
            await outbox.enqueue(tx, channel, calls, now=now)
        return bool(calls)

    async def calls_to(
        self,
        tx: Transaction,
        channel: str,
        external_id: str,
        messages: list[RenderedMessage],
        *,
        step: str | None,
        language: Language,
        purpose: Purpose,
        now: datetime,
    ) -> list[ApiCall] | None:
        """The API calls that show these messages to the person; None where we cannot write."""
        if channel == TELEGRAM:
            return telegram.reply_calls(int(external_id), messages, step=step, language=language)
        if channel == WHATSAPP:
            if await window.is_open(tx, external_id, now=now):
                return whatsapp.reply_calls(external_id, messages, step=step, language=language)
            return self._template(external_id, messages, purpose)
        return None

    async def can_write(
        self, tx: Transaction, channel: str, external_id: str, *, purpose: Purpose, now: datetime
    ) -> bool:
        """Whether a message for this purpose would reach the person now (the web chat's
        counsellor messages are polled, so they do)."""
        if channel != WHATSAPP or getattr(self.templates, purpose) is not None:
            return True
        return await window.is_open(tx, external_id, now=now)

    def _template(
        self, wa_id: str, messages: list[RenderedMessage], purpose: Purpose
    ) -> list[ApiCall] | None:
        """Outside the window: the purpose's template. A counsellor's template carries their
        message, an appointment's the reminder or change itself (its buttons cannot go in a
        template: the person answers in words, or with the next message's buttons once the
        window is open); a reminder's says only that the conversation is waiting (its answer
        reopens the window, and the question is asked again then)."""
        name = getattr(self.templates, purpose)
        if name is None:
            return None
        language = self.templates.language
        if purpose in ("counsellor", "appointment"):
            body = "\n".join(m.text for m in messages if m.text)
            return [whatsapp.template_call(wa_id, name, language, [body])]
        return [whatsapp.template_call(wa_id, name, language, [])]
