"""``aiguillage chat``: the same conversation in a terminal (bot/channels/console/)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

from bot.channels.console.chat import converse
from bot.settings import Settings, load_settings
from flows.i18n import LANGUAGES
from webhook.cli._database import announce_database, open_database
from webhook.cli._output import emit
from webhook.cli.flows_cmd import check_flows_and_catalogue
from webhook.services import build_services


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--session", help="resume this conversation (default: a new one)")
    parser.add_argument("--lang", choices=LANGUAGES, default="fr", help="language to start in")
    parser.set_defaults(handler=run)


async def _main(settings: Settings, session: str, language: str) -> None:
    async with open_database(settings) as database:
        # No Telegram here, even with a token: the terminal is the channel.
        services = build_services(settings.model_copy(update={"telegram_token": None}), database)
        await services.conversations.prepare()
        await converse(services.conversations, session, language, sys.stdin, sys.stdout)


def run(args: argparse.Namespace) -> int:
    session = args.session or f"console-{uuid.uuid4().hex[:12]}"
    settings = load_settings()
    check_flows_and_catalogue(settings.flow_folder)
    announce_database(settings)
    asyncio.run(_main(settings, session, args.lang))
    emit()
    return 0
