"""``aiguillage db upgrade``: apply the database migrations."""

from __future__ import annotations

import argparse

from bot.settings import load_settings
from bot.storage.migrate import upgrade_database
from webhook.cli._database import announce_database, make_sqlite_folder, reporting_unreachable
from webhook.cli._output import emit


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply migrations to AIGUILLAGE_DATABASE_URL")
    upgrade.add_argument("--revision", default="head", help="target revision (default: newest)")
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    announce_database(settings)
    make_sqlite_folder(settings)
    with reporting_unreachable(settings):
        upgrade_database(settings.database_url, args.revision)
    emit(f"database at revision {args.revision}")
    return 0
