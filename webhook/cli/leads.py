"""``aiguillage leads``: the leads, and their status (the admin view does the same)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.clock import utcnow
from bot.leads.handoff import LeadHandoff
from bot.leads.payload import STATUSES, LeadRecord
from bot.leads.store import UnknownLead, UnknownStatus, list_leads, read_lead
from bot.settings import load_settings
from webhook.cli._database import announce_database, open_database
from webhook.cli._errors import CliError, run_reporting
from webhook.cli._output import emit, emit_json


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="newest first")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=run_list)
    show = actions.add_parser("show", help="one lead as its webhooks carry it (JSON)")
    show.add_argument("id")
    show.set_defaults(handler=run_show)
    status = actions.add_parser("status", help="change a lead's status (sends lead.updated)")
    status.add_argument("id")
    status.add_argument("status", choices=STATUSES)
    status.add_argument("--by", required=True, help="who changes it, e.g. an e-mail address")
    status.set_defaults(handler=run_status)
    release = actions.add_parser(
        "release", help="send a lead held by the address limit (lead.created, group notice)"
    )
    release.add_argument("id")
    release.set_defaults(handler=run_release)


async def _list(limit: int) -> list[LeadRecord]:
    async with open_database(load_settings()) as database, database.transaction() as tx:
        return await list_leads(tx, limit=limit)


def run_list(args: argparse.Namespace) -> int:
    if not 0 < args.limit <= 10_000:
        raise CliError("--limit: expected 1-10000")
    announce_database(load_settings())
    leads = run_reporting(_list(args.limit))
    if not leads:
        emit("no lead yet")
    for lead in leads:
        fitting = [p["id"] for p in lead.orientation.get("programmes", []) if p["fit"] != "no"]
        emit(
            "\t".join(
                [
                    lead.id,
                    f"{lead.created_at:%Y-%m-%d %H:%M}",
                    lead.status,
                    lead.site or "-",
                    ",".join(fitting) or "-",
                    lead.referrer_code or "-",
                    "asked for a human" if lead.human_requested else "",
                ]
                # Only a held lead has this column: scripts reading seven columns still work.
                + (["held: see leads release"] if lead.held_at else [])
            )
        )
    return 0


async def _show(lead_id: str) -> dict[str, Any]:
    settings = load_settings()
    handoff = LeadHandoff.from_settings(settings)
    async with open_database(settings) as database, database.transaction() as tx:
        return (await read_lead(tx, lead_id)).full(handoff.admin_url(lead_id))


def run_show(args: argparse.Namespace) -> int:
    announce_database(load_settings())
    emit_json(run_reporting(_show(args.id), UnknownLead))
    return 0


async def _status(args: argparse.Namespace) -> LeadRecord | None:
    settings = load_settings()
    handoff = LeadHandoff.from_settings(settings)
    async with open_database(settings) as database, database.transaction() as tx:
        return await handoff.change_status(
            tx, args.id, args.status, changed_by=args.by, now=utcnow()
        )


def run_status(args: argparse.Namespace) -> int:
    by = args.by.strip()
    if not 0 < len(by) <= 254:
        raise CliError("--by: expected 1-254 characters")
    args.by = by
    changed = run_reporting(_status(args), UnknownLead, UnknownStatus)
    emit(f"lead {args.id}: " + (f"now {args.status}" if changed else f"already {args.status}"))
    return 0


async def _release(lead_id: str) -> LeadRecord | None:
    settings = load_settings()
    handoff = LeadHandoff.from_settings(settings)
    async with open_database(settings) as database, database.transaction() as tx:
        return await handoff.release(tx, lead_id, now=utcnow())


def run_release(args: argparse.Namespace) -> int:
    """A lead held beyond its address's lead limit, found genuine: it goes out as new."""
    released = run_reporting(_release(args.id), UnknownLead)
    emit(f"lead {args.id}: " + ("released" if released else "not held"))
    return 0
