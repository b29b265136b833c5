"""``aiguillage worker``: the lead delivery worker alone (serve runs one too)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from bot.logs import configure_logging
from bot.settings import Settings, load_settings
from webhook.cli._database import open_database
from webhook.services import build_services

logger = logging.getLogger(__name__)


def register(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(handler=run)


async def _main(settings: Settings) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    async with open_database(settings) as database:
        deliveries = build_services(settings, database).deliveries
        async with deliveries.running():
            logger.info("delivery worker started", extra={"database": settings.database_label})
            await stopping.wait()
    logger.info("delivery worker stopped")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    asyncio.run(_main(settings))
    return 0
