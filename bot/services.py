"""The conversation service as the settings describe it: one recipe for every command.

``serve``, ``bot`` (polling) and ``chat`` used to build it each their own way, and the polling
bot forgot the reminder and closing delays; now they all call ``conversation_service``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService, Timing
from bot.leads.handoff import LeadHandoff
from bot.settings import Settings
from bot.storage.database import Database
from flows.flow_loader import FLOWS_DIR


def flows_dir(settings: Settings) -> Path:
    """The folder of the flow files: AIGUILLAGE_FLOWS_DIR, or the ones shipped with the code."""
    return settings.flows_dir or FLOWS_DIR


def timing(settings: Settings) -> Timing:
    """When an unfinished conversation is reminded, and when it is closed."""
    return Timing(
        reminder_after=timedelta(hours=settings.reminder_delay_hours),
        close_after=timedelta(days=settings.close_after_days),
    )


def conversation_service(
    settings: Settings, database: Database, *, handoff: LeadHandoff | None = None
) -> ConversationService:
    """The service with the configured flows, privacy link, delays and lead hand-off."""
    return ConversationService(
        database,
        FlowRegistry(flows_dir(settings)),
        context={"privacy_url": settings.privacy_url},
        timing=timing(settings),
        handoff=handoff,
    )
