"""The conversation service as the settings describe it (webhook/services.py builds the rest)."""

from __future__ import annotations

from datetime import timedelta

from bot.appointments.service import Appointments, BookingRules
from bot.channels.writers import WhatsAppTemplates, Writers
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService, Timing
from bot.leads.handoff import LeadHandoff
from bot.settings import Settings
from bot.storage.database import Database


def timing(settings: Settings) -> Timing:
    """When an unfinished conversation is reminded, and when it is closed."""
    return Timing(
        reminder_after=timedelta(hours=settings.reminder_delay_hours),
        close_after=timedelta(days=settings.close_after_days),
    )


def privacy_link(settings: Settings) -> str:
    """The privacy notice's address as messages show it: whole where the service's public
    address is known, since a messenger cannot follow a path alone."""
    if settings.privacy_url.startswith("/") and settings.public_url:
        return settings.public_url + settings.privacy_url
    return settings.privacy_url


def conversation_service(
    settings: Settings,
    database: Database,
    *,
    handoff: LeadHandoff | None = None,
    signing_key: bytes | None = None,
) -> ConversationService:
    """The service with the configured flows, privacy link, delays, lead hand-off and
    sessions to book."""
    handoff = handoff or LeadHandoff()
    writers = Writers(WhatsAppTemplates.from_settings(settings))
    return ConversationService(
        database,
        FlowRegistry(settings.flow_folder),
        context={"privacy_url": privacy_link(settings)},
        timing=timing(settings),
        handoff=handoff,
        writers=writers,
        appointments=Appointments(
            database,
            handoff=handoff,
            writers=writers,
            rules=BookingRules.from_settings(settings),
            link_key=signing_key,
            public_url=settings.public_url,
        ),
    )
