"""``aiguillage endpoints``: the receivers of signed lead events, and their secrets."""

from __future__ import annotations

import argparse
from collections.abc import Coroutine
from typing import Any, TypeVar

from bot.clock import utcnow
from bot.leads import endpoints
from bot.settings import load_settings
from webhook.cli._database import announce_database, open_database
from webhook.cli._errors import CliError, run_reporting
from webhook.cli._output import emit
from webhook.handoff.signing import new_secret

T = TypeVar("T")


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register a receiver and print its signing secret")
    add.add_argument("url", help="https:// address that receives POSTed events")
    add.add_argument("--name", help="who receives, e.g. 'CRM Pantin' (default: the URL's host)")
    add.add_argument("--site", help="only the leads of this site (a catalogue site id)")
    add.add_argument(
        "--referrer", help="only the leads of this referral code (follow-up view, no answers)"
    )
    add.set_defaults(handler=run_add)
    actions.add_parser("list", help="every receiver, its filter and state").set_defaults(
        handler=run_list
    )
    rotate = actions.add_parser(
        "rotate-secret", help="a new secret; the old one also signs for 24 hours"
    )
    rotate.add_argument("id")
    rotate.set_defaults(handler=run_rotate)
    disable = actions.add_parser("disable", help="stop sending (deliveries are held)")
    disable.add_argument("id")
    disable.set_defaults(handler=run_disable)
    enable = actions.add_parser("enable", help="send again, held deliveries first")
    enable.add_argument("id")
    enable.set_defaults(handler=run_enable)
    remove = actions.add_parser("remove", help="delete a receiver and its deliveries")
    remove.add_argument("id")
    remove.add_argument(
        "--yes", action="store_true", help="also when deliveries are still waiting for it"
    )
    remove.set_defaults(handler=run_remove)


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


async def _add(args: argparse.Namespace, secret: str) -> str:
    name = (args.name or _host(args.url)).strip()
    endpoints.check_endpoint(args.url, name, args.site, args.referrer)
    async with open_database(load_settings()) as database, database.transaction() as tx:
        return await endpoints.add_endpoint(
            tx,
            url=args.url,
            name=name,
            site=args.site,
            referrer=args.referrer,
            secret=secret,
            now=utcnow(),
        )


def run_add(args: argparse.Namespace) -> int:
    secret = new_secret()
    endpoint_id = _run(_add(args, secret))
    emit(f"endpoint {endpoint_id}")
    emit(f"signing secret (shown once; give it to the receiver): {secret}")
    return 0


async def _list() -> list[endpoints.EndpointInfo]:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        return await endpoints.list_endpoints(tx, now=utcnow())


def run_list(args: argparse.Namespace) -> int:
    announce_database(load_settings())
    found = _run(_list())
    if not found:
        emit("no endpoint yet: aiguillage endpoints add URL")
    for info in found:
        state = "enabled"
        if info.disabled_at is not None:
            state = f"disabled ({info.disabled_reason})"
        rotating = (
            f", old secret also signs until {info.rotating_until:%Y-%m-%d %H:%M} UTC"
            if info.rotating_until
            else ""
        )
        emit(
            f"{info.id}\t{info.name}\t{info.url}\t{info.scope}\t{state}{rotating}"
            f"\t{info.pending} waiting, {info.failed} failed"
        )
    return 0


async def _rotate(endpoint_id: str, secret: str) -> str:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        until = await endpoints.rotate_secret(tx, endpoint_id, secret, now=utcnow())
    return f"{until:%Y-%m-%d %H:%M} UTC"


def run_rotate(args: argparse.Namespace) -> int:
    secret = new_secret()
    until = _run(_rotate(args.id, secret))
    emit(f"new signing secret: {secret}")
    emit(f"the old secret signs too until {until}: update the receiver before then")
    return 0


async def _set_enabled(endpoint_id: str, enabled: bool) -> None:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        await endpoints.set_enabled(tx, endpoint_id, enabled, now=utcnow())


def run_disable(args: argparse.Namespace) -> int:
    _run(_set_enabled(args.id, False))
    emit(f"endpoint {args.id} disabled: its deliveries wait until it is enabled again")
    return 0


def run_enable(args: argparse.Namespace) -> int:
    _run(_set_enabled(args.id, True))
    emit(f"endpoint {args.id} enabled: waiting deliveries leave now")
    return 0


async def _remove(endpoint_id: str, force: bool) -> int:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        waiting = [
            info
            for info in await endpoints.list_endpoints(tx, now=utcnow())
            if info.id == endpoint_id and info.pending
        ]
        if waiting and not force:
            raise CliError(
                f"endpoint {endpoint_id} still has {waiting[0].pending} deliveries waiting:"
                " add --yes to drop them with it, or disable it instead"
            )
        return await endpoints.remove_endpoint(tx, endpoint_id)


def run_remove(args: argparse.Namespace) -> int:
    dropped = _run(_remove(args.id, args.yes))
    emit(f"endpoint {args.id} removed" + (f" with {dropped} waiting deliveries" if dropped else ""))
    return 0


def _run(work: Coroutine[Any, Any, T]) -> T:
    return run_reporting(work, endpoints.EndpointError)
