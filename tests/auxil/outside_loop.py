"""The database as a command-line test sees it: from outside any event loop, each call its own."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.settings import Settings
from bot.storage.database import open_database
from webhook.handoff.worker import DeliveryWorker


def rows(settings: Settings, sql: str, **params: Any) -> list[dict[str, Any]]:
    async def fetch() -> list[dict[str, Any]]:
        database = open_database(settings.database_url)
        try:
            async with database.transaction() as tx:
                return await tx.fetch(sql, params)
        finally:
            await database.close()

    return asyncio.run(fetch())


def deliver_once(settings: Settings) -> int:
    """One round of the delivery worker, set to give up at the first failure."""

    async def deliver() -> int:
        database = open_database(settings.database_url)
        worker = DeliveryWorker(database, schedule=())
        try:
            return await worker.deliver_due()
        finally:
            await worker.close()
            await database.close()

    return asyncio.run(deliver())
