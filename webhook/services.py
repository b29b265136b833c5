"""The services of one process, built from the settings: one recipe for every command.

``serve`` (webhook/app.py), ``bot`` (polling), ``worker`` and ``chat`` each used to assemble
the conversation service, the lead hand-off, the delivery worker and the Telegram channel in
their own way, and drifted apart (the polling bot once forgot the reminder delays). They all
call ``build_services`` and use what they need of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot

from bot.appointments.reminders import AppointmentReminderJob
from bot.channels.sms.runtime import SmsRuntime
from bot.channels.telegram.runtime import TelegramRuntime
from bot.channels.whatsapp.runtime import WhatsAppRuntime
from bot.conversations.service import ConversationService
from bot.conversations.setup import conversation_service
from bot.leads.handoff import LeadHandoff
from bot.messaging.reminders import ReminderJob
from bot.settings import Settings
from bot.signing_key import SigningKey, load_signing_key
from bot.storage.database import Database
from webhook.handoff.worker import DeliveryWorker


@dataclass(frozen=True)
class Services:
    """What a process runs, on one database."""

    handoff: LeadHandoff
    conversations: ConversationService
    # Delivers lead events to the partners' endpoints; woken when a step queues one.
    deliveries: DeliveryWorker
    # None when no Telegram token is configured (nor a bot given, in tests).
    telegram: TelegramRuntime | None
    # None when the four WhatsApp settings are not set.
    whatsapp: WhatsAppRuntime | None
    # SMS reminders (Brevo); without an API key they are only logged.
    sms: SmsRuntime
    # Reminds booked people of their sessions (messengers, or SMS for the web chat).
    appointment_reminders: AppointmentReminderJob


def build_services(
    settings: Settings,
    database: Database,
    *,
    telegram_bot: Bot | None = None,
    signing_key: SigningKey | None = None,
) -> Services:
    """The services these settings describe (nothing is started: the caller starts what it
    runs)."""
    handoff = LeadHandoff.from_settings(settings)
    # Signs the links of SMS and calendar files, with the admin sessions' key.
    key = signing_key or load_signing_key(settings)
    conversations = conversation_service(
        settings, database, handoff=handoff, signing_key=key.value.get_secret_value().encode()
    )
    # Reminders reach every channel that can be written to: one job, in the first runtime.
    reminders = ReminderJob(conversations, database)
    telegram = (
        TelegramRuntime(settings, conversations, database, bot=telegram_bot, reminders=reminders)
        if telegram_bot is not None or settings.telegram_token is not None
        else None
    )
    whatsapp = (
        WhatsAppRuntime(
            settings,
            conversations,
            database,
            reminders=None if telegram is not None else reminders,
        )
        if settings.whatsapp_enabled
        else None
    )
    return Services(
        handoff=handoff,
        conversations=conversations,
        deliveries=DeliveryWorker(database, wake=handoff.queued),
        telegram=telegram,
        whatsapp=whatsapp,
        sms=SmsRuntime(settings, database),
        appointment_reminders=AppointmentReminderJob(conversations.appointments, database),
    )
