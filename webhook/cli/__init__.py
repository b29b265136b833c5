"""The ``aiguillage`` command line: one sub-command per module of this package.

A command's module, and what it needs (the web framework, Telegram, SQLAlchemy: seconds of
imports), is loaded only when that command runs, so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.accounts.users import Passwords

# Command → (module of this package, one-line help). Each module has register(parser) adding
# its arguments and handler, imported only when its command is asked for.
COMMANDS: dict[str, tuple[str, str]] = {
    "orient": ("orient", "print the orientation of a profile (JSON)"),
    "serve": ("serve", "run the HTTP service"),
    "worker": ("worker", "deliver lead webhooks (several may share a PostgreSQL database)"),
    "db": ("db", "database maintenance"),
    "flows": ("flows_cmd", "check the flow files or draw their diagrams"),
    "places": ("places", "postal codes, communes and QPVs from official data: build, check"),
    "chat": ("chat", "talk to the assistant in this terminal"),
    "bot": ("bot_polling", "run the Telegram bot by polling (development)"),
    "referrers": ("referrers", "partners' referral codes"),
    "leads": ("leads", "people to contact, and their follow-up"),
    "sessions": ("sessions", "information sessions and appointment slots"),
    "endpoints": ("endpoints", "receivers of signed lead webhooks"),
    "deliveries": ("deliveries", "lead webhook deliveries"),
    "purge": ("purge", "erase data older than its retention now"),
    "funnel": ("funnel", "the conversion funnel's stored stages: rebuild"),
    "users": ("users", "accounts of the admin view"),
}


def _asked_command(argv: Sequence[str]) -> str | None:
    """The command named on the line (the first word that is not an option), if known."""
    word = next((arg for arg in argv if not arg.startswith("-")), None)
    return word if word in COMMANDS else None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser: every command listed, the arguments of the one asked for registered."""
    parser = argparse.ArgumentParser(
        prog="aiguillage", description="Orientation assistant of PôleS."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    asked = _asked_command(argv)
    for name, (module_name, help_text) in COMMANDS.items():
        command = commands.add_parser(name, help=help_text, description=help_text)
        if name == asked:
            importlib.import_module(f"{__name__}.{module_name}").register(command)
    return parser


def main(argv: Sequence[str] | None = None, *, passwords: Passwords | None = None) -> int:
    """Run a sub-command; errors become one line on stderr and exit status 2.

    ``passwords``: what hashes the accounts' passwords (Argon2id unless tests give a cheap one).
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(arguments).parse_args(arguments)
    # Bytes that are not UTF-8 reach Python as lone surrogates, which no database stores: one
    # line naming the argument, for every command, rather than a traceback at the first write.
    broken = next((arg for arg in arguments if not _is_utf8(arg)), None)
    if broken is not None:
        shown = broken.encode("utf-8", "backslashreplace").decode("utf-8")
        print(f"aiguillage {args.command}: not valid UTF-8 text: {shown}", file=sys.stderr)  # noqa: T201
        return 2
    args.passwords = passwords
    # Imported here, not above: the settings load pydantic, which --help does not need.
    from bot.settings import SettingsError
    from webhook.cli._errors import CliError

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


def _is_utf8(argument: str) -> bool:
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
