"""The database as a command-line test sees it: from outside any event loop, each call its own."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.settings import Settings
from bot.storage.database import open_database
from webhook.handoff.worker import DeliveryWorker


def rows(settings: Settings, sql: str, **params: Any) -> list[dict[str, Any]]:
    return run_sql(settings.database_url, sql, params)


def run_sql(database_url: str, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Run one statement in its own transaction; the rows of a SELECT."""

    async def run() -> list[Any]:
        database = open_database(database_url)
        try:
            async with database.transaction() as tx:
                if sql.lstrip().upper().startswith("SELECT"):
                    return await tx.fetch(sql, params or {})
                await tx.execute(sql, params or {})
                return []
        finally:
            await database.close()

    return asyncio.run(run())


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
