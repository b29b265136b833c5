"""``aiguillage deliveries``: what was sent to the endpoints, what waits, what failed."""

from __future__ import annotations

import argparse
from typing import get_args

from bot.clock import utcnow
from bot.leads import endpoints
from bot.settings import load_settings
from webhook.cli._database import announce_database, open_database
from webhook.cli._errors import CliError, run_reporting
from webhook.cli._output import emit


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="newest first")
    listing.add_argument("--state", choices=get_args(endpoints.DeliveryState))
    listing.add_argument("--endpoint", help="one endpoint's id")
    listing.add_argument("--lead", help="one lead's id")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=run_list)
    replay = actions.add_parser("replay", help="send again (same webhook-id, fresh schedule)")
    replay.add_argument("ids", nargs="*", metavar="ID", help="deliveries to send again")
    replay.add_argument("--failed", action="store_true", help="every failed delivery")
    replay.add_argument("--endpoint", help="with --failed: only this endpoint's")
    replay.set_defaults(handler=run_replay)


async def _list(args: argparse.Namespace) -> list[endpoints.DeliveryInfo]:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        return await endpoints.list_deliveries(
            tx, state=args.state, endpoint_id=args.endpoint, lead_id=args.lead, limit=args.limit
        )


def run_list(args: argparse.Namespace) -> int:
    if not 0 < args.limit <= 10_000:
        raise CliError("--limit: expected 1-10000")
    announce_database(load_settings())
    found = run_reporting(_list(args))
    if not found:
        emit("no delivery matches")
    for item in found:
        when = (
            f"next try {item.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC" if item.next_attempt_at else ""
        )
        answer = item.last_error or (f"HTTP {item.last_status}" if item.last_status else "")
        erased = "lead erased" if item.erased else ""
        columns = [item.id, item.event_type, item.state, f"{item.attempts} tries", when, answer]
        emit("\t".join([*columns, f"endpoint {item.endpoint_id}", f"lead {item.lead_id}", erased]))
    return 0


async def _replay(args: argparse.Namespace) -> int:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        ids = list(args.ids)
        if args.failed:
            ids += await endpoints.failed_ids(tx, endpoint_id=args.endpoint)
        return await endpoints.replay(tx, list(dict.fromkeys(ids)), now=utcnow())


def run_replay(args: argparse.Namespace) -> int:
    if not args.ids and not args.failed:
        raise CliError("replay: give delivery ids, or --failed")
    if args.endpoint and not args.failed:
        raise CliError("--endpoint: only with --failed")
    count = run_reporting(_replay(args), endpoints.EndpointError)
    emit(f"{count} deliveries will be sent again by the worker")
    return 0
