"""``aiguillage referrers``: partners' referral codes and the links to share."""

from __future__ import annotations

import argparse
import asyncio
import re

from sqlalchemy import select

from bot.partners.referral_links import links
from bot.partners.referrers import UNKNOWN_REFERRER
from bot.settings import Settings, load_settings
from bot.storage.models import Referrer
from webhook.cli._database import announce_database, open_database
from webhook.cli._errors import CliError
from webhook.cli._output import emit

CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register a code and print its links")
    add.add_argument("code", help="1-64 characters among A-Z a-z 0-9 _ -")
    add.add_argument("--name", required=True, help="who shares it, e.g. 'Mission locale de Poissy'")
    add.set_defaults(handler=run_add)
    listing = actions.add_parser("list", help="every code with its links")
    listing.set_defaults(handler=run_list)


async def bot_username(settings: Settings) -> str | None:
    """The bot's @name: from the settings, else asked of the Bot API when a token is set."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    if settings.telegram_token is None:
        return None
    # Loaded only to ask Telegram: the Telegram client is half of this command's start.
    from bot.channels.telegram.runtime import make_bot

    bot = make_bot(settings)
    async with bot:
        return bot.username


async def _add(settings: Settings, code: str, name: str) -> list[str]:
    async with open_database(settings) as factory, factory() as session, session.begin():
        if await session.get(Referrer, code) is not None:
            raise CliError(f"code {code!r} is already registered")
        session.add(Referrer(code=code, name=name))
    return links(settings, await bot_username(settings), code)


def run_add(args: argparse.Namespace) -> int:
    if not CODE.match(args.code):
        raise CliError(f"code {args.code!r}: expected 1-64 characters among A-Z a-z 0-9 _ -")
    if args.code == UNKNOWN_REFERRER:
        # It counts every unregistered code: a partner with it would get invented ones.
        raise CliError(f"code {args.code!r} stands for every unregistered code: choose another")
    name = args.name.strip()
    if not 0 < len(name) <= 200:
        raise CliError("--name: expected 1-200 characters")
    settings = load_settings()
    found = asyncio.run(_add(settings, args.code, name))
    emit(f"{args.code}\t{name}")
    for link in found:
        emit(link)
    if not found:
        emit(
            "(set AIGUILLAGE_TELEGRAM_TOKEN or AIGUILLAGE_TELEGRAM_BOT_USERNAME for the t.me link)"
        )
    return 0


async def _list(settings: Settings) -> list[tuple[str, str]]:
    async with open_database(settings) as factory, factory() as session:
        rows = await session.execute(select(Referrer.code, Referrer.name).order_by(Referrer.code))
        return [(code, name) for code, name in rows]


def run_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    announce_database(settings)
    username = settings.telegram_bot_username
    for code, name in asyncio.run(_list(settings)):
        emit("\t".join([code, name, *links(settings, username, code)]))
    return 0
