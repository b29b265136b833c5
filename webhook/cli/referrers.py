"""``aiguillage referrers``: partners' referral codes and the links to share."""

from __future__ import annotations

import argparse

from bot.partners.referral_links import links
from bot.partners.referrers import (
    Referrer,
    ReferrerError,
    add_referrer,
    check_referrer,
    list_referrers,
)
from bot.settings import Settings, load_settings
from webhook.cli._database import announce_database, open_database
from webhook.cli._errors import CliError, run_reporting
from webhook.cli._output import emit


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
    from bot.channels.telegram.messenger import make_bot

    bot = make_bot(settings)
    async with bot:
        return bot.username


async def _add(settings: Settings, code: str, name: str) -> list[str]:
    async with open_database(settings) as database, database.transaction() as tx:
        await add_referrer(tx, code, name)
    return links(settings, await bot_username(settings), code)


def run_add(args: argparse.Namespace) -> int:
    name = args.name.strip()
    try:
        # Before the database is opened: a wrong code is one line, whatever the database.
        check_referrer(args.code, name)
    except ReferrerError as error:
        raise CliError(str(error)) from None
    settings = load_settings()
    found = run_reporting(_add(settings, args.code, name), ReferrerError)
    emit(f"{args.code}\t{name}")
    for link in found:
        emit(link)
    if not found:
        emit(
            "(set AIGUILLAGE_TELEGRAM_TOKEN or AIGUILLAGE_TELEGRAM_BOT_USERNAME for the t.me link)"
        )
    return 0


async def _list(settings: Settings) -> list[Referrer]:
    async with open_database(settings) as database, database.transaction() as tx:
        return await list_referrers(tx)


def run_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    announce_database(settings)
    username = settings.telegram_bot_username
    for referrer in run_reporting(_list(settings)):
        emit("\t".join([referrer.code, referrer.name, *links(settings, username, referrer.code)]))
    return 0
