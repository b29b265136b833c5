"""``aiguillage purge``: erase what is older than its retention (also run daily by serve)."""

from __future__ import annotations

import argparse
import asyncio

from bot.retention import Purged, Retention, purge
from bot.settings import Settings, load_settings
from webhook.cli._database import announce_database, open_database
from webhook.cli._output import emit


def register(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(handler=run)


async def _purge(settings: Settings) -> Purged:
    retention = Retention.from_settings(settings)
    async with open_database(settings, batch_job=True) as database:
        # Batch after batch, each its own short transaction: the service keeps serving.
        return await purge(database, retention)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    announce_database(settings)
    purged = asyncio.run(_purge(settings))
    emit(
        f"erased {purged.conversations} conversations, {purged.inbox_updates} messages"
        f" received, {purged.outbox_messages} sent messages, the data of"
        f" {purged.delivery_bodies} lead webhooks sent over 30 days ago and"
        f" {purged.leads} leads closed over {settings.retention_lead_months} months ago"
    )
    return 0
