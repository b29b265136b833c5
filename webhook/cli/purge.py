"""``aiguillage purge``: erase what is older than its retention (also run daily by serve)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from typing import Any

from bot.retention import Purged, Retention, purge
from bot.settings import Settings, load_settings
from webhook.cli._database import open_database
from webhook.cli._output import emit


def register(commands: Any) -> None:
    parser = commands.add_parser("purge", help="erase data older than its retention now")
    parser.set_defaults(handler=run)


async def _purge(settings: Settings) -> Purged:
    retention = Retention(conversations=timedelta(days=settings.retention_conversation_days))
    async with open_database(settings) as factory, factory() as session, session.begin():
        return await purge(session, retention)


def run(args: argparse.Namespace) -> int:
    purged = asyncio.run(_purge(load_settings()))
    emit(
        f"erased {purged.conversations} conversations, {purged.telegram_updates} Telegram"
        f" updates, {purged.outbox_messages} sent messages and the data of"
        f" {purged.delivery_bodies} lead webhooks sent over 30 days ago"
    )
    return 0
