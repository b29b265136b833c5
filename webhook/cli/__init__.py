"""The ``aiguillage`` command line: one sub-command per module of this package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.settings import SettingsError
from webhook.cli import (
    bot_polling,
    chat,
    db,
    deliveries,
    endpoints,
    flows_cmd,
    leads,
    orient,
    purge,
    referrers,
    serve,
    users,
    worker,
)
from webhook.cli._errors import CliError

COMMAND_MODULES = (
    orient, serve, worker, db, flows_cmd, chat, bot_polling, referrers, leads, endpoints,
    deliveries, purge, users,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="aiguillage", description="Orientation assistant of PôleS."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a sub-command; errors become one line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except (CliError, SettingsError) as error:
        print(f"aiguillage {args.command}: {error}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
