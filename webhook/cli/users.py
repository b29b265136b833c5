"""``aiguillage users``: the accounts that sign in to the admin view (/admin).

A password is never an argument (it would stay in the shell's history and in the process
list): ``--password-stdin`` reads it from standard input, one line, or asks for it without
echo when standard input is a terminal.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from bot.accounts.users import (
    DEFAULT_PASSWORDS,
    ROLES,
    Passwords,
    User,
    UserError,
    add_user,
    check_account,
    list_users,
    normalise_email,
    set_disabled,
    set_password,
)
from bot.clock import utcnow
from bot.settings import load_settings
from webhook.cli._database import open_database
from webhook.cli._errors import CliError, run_reporting
from webhook.cli._output import emit

T = TypeVar("T")
# More than any password anyone types; a whole file piped by mistake is refused.
MAX_PASSWORD = 1024


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="create an account (password on standard input: --password-stdin)"
    )
    add.add_argument("email", metavar="EMAIL", help="the address the person signs in with")
    add.add_argument(
        "--role",
        required=True,
        metavar="|".join(ROLES),
        help="admin: everything; counsellor: the leads of their sites; partner: the follow-up"
        " of their referral codes",
    )
    add.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="SITE",
        help="a counsellor's site (a catalogue site id); repeat for several",
    )
    add.add_argument(
        "--referrer",
        action="append",
        default=[],
        metavar="CODE",
        help="a partner's referral code; repeat for several",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (one line, at least 12 characters)",
    )
    add.set_defaults(handler=run_add)
    actions.add_parser("list", help="every account, its role, scope and state").set_defaults(
        handler=run_list
    )
    disable = actions.add_parser("disable", help="stop an account (its sessions end at once)")
    disable.add_argument("email", metavar="EMAIL")
    disable.set_defaults(handler=run_disable)
    password = actions.add_parser(
        "password",
        help="give an account a new password (on standard input: --password-stdin); signs out"
        " every session of the account",
    )
    password.add_argument("email", metavar="EMAIL")
    password.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new password from standard input (one line, at least 12 characters)",
    )
    password.set_defaults(handler=run_password)


def read_password() -> str:
    """One line of standard input, without its line end (asked without echo on a terminal)."""
    if sys.stdin is None:
        raise CliError("--password-stdin: no standard input to read the password from")
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    line = sys.stdin.readline(MAX_PASSWORD + 2)
    password = line.removesuffix("\n").removesuffix("\r")
    if len(password) > MAX_PASSWORD:
        raise CliError(f"password: expected at most {MAX_PASSWORD} characters on one line")
    return password


async def _add(
    email: str,
    password: str,
    role: str,
    sites: list[str],
    refs: list[str],
    passwords: Passwords,
) -> User:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        return await add_user(
            tx,
            email=email,
            password=password,
            role=role,
            sites=sites,
            referrers=refs,
            now=utcnow(),
            passwords=passwords,
        )


def run_add(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        raise CliError(
            "add --password-stdin and give the password on standard input"
            " (never on the command line), e.g. aiguillage users add EMAIL --role admin"
            " --password-stdin < password.txt"
        )
    email = normalise_email(args.email)
    sites, referrers = list(dict.fromkeys(args.site)), list(dict.fromkeys(args.referrer))
    try:
        # Every rule but the password's first: a wrong role fails before anyone types.
        check_account(email, args.role, sites, referrers, None)
    except UserError as error:
        raise CliError(str(error)) from None
    password = read_password()
    user = _run(_add(email, password, args.role, sites, referrers, _passwords(args)))
    emit(f"account {user.email} added: {user.role}, {_scope(user)}")
    return 0


def _scope(user: User) -> str:
    if user.role == "counsellor":
        return "sites " + ", ".join(user.sites)
    if user.role == "partner":
        return "referrers " + ", ".join(user.referrers)
    return "all leads"


async def _list() -> list[User]:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        return await list_users(tx)


def run_list(args: argparse.Namespace) -> int:
    found = _run(_list())
    if not found:
        emit("no account yet: aiguillage users add EMAIL --role admin --password-stdin")
    for user in found:
        state = (
            "active"
            if user.disabled_at is None
            else f"disabled since {user.disabled_at:%Y-%m-%d %H:%M} UTC"
        )
        emit(f"{user.email}\t{user.role}\t{_scope(user)}\t{state}")
    return 0


async def _disable(email: str) -> None:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        await set_disabled(tx, email, now=utcnow())


def run_disable(args: argparse.Namespace) -> int:
    email = normalise_email(args.email)
    _run(_disable(email))
    emit(f"account {email} disabled: it can no longer sign in, and its sessions have ended")
    return 0


async def _change_password(email: str, password: str, passwords: Passwords) -> None:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        await set_password(tx, email, password, passwords=passwords)


def run_password(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        raise CliError(
            "password --password-stdin and give the new password on standard input"
            " (never on the command line), e.g. aiguillage users password EMAIL"
            " --password-stdin < password.txt"
        )
    email = normalise_email(args.email)
    _run(_change_password(email, read_password(), _passwords(args)))
    emit(f"password of {email} changed: every session of the account is signed out")
    return 0


def _passwords(args: argparse.Namespace) -> Passwords:
    given: Passwords | None = getattr(args, "passwords", None)
    return given or DEFAULT_PASSWORDS


def _run(work: Coroutine[Any, Any, T]) -> T:
    return run_reporting(work, UserError)
