"""``aiguillage bot``: the Telegram bot by long polling, for development without a public URL."""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.channels.telegram.runtime import ALLOWED_UPDATES, TelegramRuntime
from bot.logs import configure_logging
from bot.settings import Settings, load_settings
from webhook.cli._database import open_database
from webhook.cli._errors import CliError
from webhook.cli.flows_cmd import check_flows_and_catalogue
from webhook.services import build_services

logger = logging.getLogger(__name__)


def register(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(handler=run)


async def poll(runtime: TelegramRuntime, *, stop: asyncio.Event | None = None) -> None:
    """Feed getUpdates into the same inbox as the webhook, until stopped."""
    offset = 0
    while stop is None or not stop.is_set():
        # A short wait when a stop can be asked, so that it is heard promptly.
        updates = await runtime.bot.get_updates(
            offset=offset, timeout=1 if stop else 25, allowed_updates=ALLOWED_UPDATES
        )
        for update in updates:
            # The inbox keeps the JSON Telegram sent, whichever way it arrived.
            await runtime.accept(update.to_dict())
            offset = max(offset, update.update_id + 1)


async def _main(settings: Settings) -> None:
    async with open_database(settings) as database:
        # The same services as serve's: reminder and closing delays, lead delivery included.
        services = build_services(settings, database)
        runtime = services.telegram
        assert runtime is not None  # run() checked the token
        await services.conversations.prepare()
        await runtime.start(webhook=False)
        # Polling and a webhook cannot both be on: polling wins while this runs.
        await runtime.bot.delete_webhook()
        logger.info("telegram polling started", extra={"database": settings.database_label})
        try:
            # Leads found while polling are delivered too, and sessions reminded, as by serve.
            async with (
                services.deliveries.running(),
                services.appointment_reminders.running(),
            ):
                await poll(runtime)
        finally:
            await runtime.stop()


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.telegram_token is None:
        raise CliError("AIGUILLAGE_TELEGRAM_TOKEN: expected the bot's token to poll Telegram")
    check_flows_and_catalogue(settings.flow_folder)
    configure_logging(settings.log_level)
    asyncio.run(_main(settings))
    return 0
