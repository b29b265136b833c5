"""``aiguillage sessions``: information sessions and appointment slots (the admin view does
the same). Times are Paris times; cancelling or moving tells each booked person on their
channel, through the outbox the running service sends."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from bot.appointments.paris_time import paris_text, parse_start
from bot.appointments.queries import upcoming_sessions
from bot.appointments.service import Appointments
from bot.appointments.sessions import NewSession, SessionProblem, SessionRecord
from bot.clock import utcnow
from bot.settings import Settings, load_settings
from webhook.cli._database import announce_database, open_database
from webhook.cli._errors import CliError, run_reporting
from webhook.cli._output import emit
from webhook.services import build_services

START_HELP = '"YYYY-MM-DD HH:MM", Paris time'
# Who opened, moved or cancelled a session, when --by is not given.
COMMAND_LINE = "command line"
# The service names a wrong field as the form does; here it is the option's name.
OPTIONS = {
    "programme": "--programme",
    "site": "--site",
    "start": "--start",
    "capacity": "--capacity",
    "duration": "--duration",
    "place": "--place",
    "video": "--video",
}


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="open a session and print its id")
    add.add_argument(
        "--programme",
        action="append",
        required=True,
        metavar="ID",
        help="a programme it presents (repeat for several)",
    )
    add.add_argument("--site", required=True, metavar="ID", help="the catalogue's site id")
    add.add_argument("--start", required=True, help=START_HELP)
    add.add_argument("--capacity", required=True, type=int, metavar="N", help="seats")
    add.add_argument("--place", help="address and room")
    add.add_argument("--duration", type=int, default=60, metavar="MINUTES", help="default 60")
    add.add_argument("--video", metavar="URL", help="an https:// video link")
    add.add_argument("--by", default=COMMAND_LINE, help="who opens it, e.g. an e-mail address")
    add.set_defaults(handler=run_add)
    listing = actions.add_parser("list", help="upcoming sessions, soonest first, with seats")
    listing.add_argument("--site", metavar="ID", help="only this site's")
    listing.set_defaults(handler=run_list)
    cancel = actions.add_parser("cancel", help="cancel a session; booked people are told")
    cancel.add_argument("id")
    cancel.add_argument("--by", default=COMMAND_LINE, help="who cancels it")
    cancel.set_defaults(handler=run_cancel)
    move = actions.add_parser("move", help="give a session a new start; booked people are told")
    move.add_argument("id")
    move.add_argument("--start", required=True, help=START_HELP)
    move.add_argument("--by", default=COMMAND_LINE, help="who moves it")
    move.set_defaults(handler=run_move)


def _start(written: str) -> datetime:
    try:
        return parse_start(written)
    except ValueError as error:
        reason = str(error) if "Paris" in str(error) else f"expected {START_HELP}"
        raise CliError(f"--start: {reason}") from None


def _by(args: argparse.Namespace) -> str:
    by: str = args.by.strip()
    if not 0 < len(by) <= 254:
        raise CliError("--by: expected 1-254 characters")
    return by


def _problems(error: SessionProblem) -> str:
    """The service's ``field: why; …`` with the options' names."""
    named = []
    for problem in str(error).split("; "):
        name, _, why = problem.partition(":")
        named.append(f"{OPTIONS.get(name, name)}:{why}" if why else problem)
    return "; ".join(named)


async def _with_appointments(
    settings: Settings, work: Callable[[Appointments], Coroutine[Any, Any, Any]]
) -> Any:
    # The service's own recipe: the same writers (and SMS) as the running service.
    async with open_database(settings) as database:
        return await work(build_services(settings, database).conversations.appointments)


def run_add(args: argparse.Namespace) -> int:
    new = NewSession(
        programmes=tuple(dict.fromkeys(args.programme)),
        site=args.site,
        starts_at=_start(args.start),
        capacity=args.capacity,
        duration_minutes=args.duration,
        place=(args.place or "").strip() or None,
        video_url=(args.video or "").strip() or None,
    )
    by = _by(args)
    settings = load_settings()
    announce_database(settings)

    async def add(appointments: Appointments) -> SessionRecord:
        return await appointments.open_session(new, by=by)

    try:
        session: SessionRecord = run_reporting(_with_appointments(settings, add))
    except SessionProblem as error:
        raise CliError(_problems(error)) from None
    emit(session.id)
    return 0


async def _list(settings: Settings, site: str | None) -> list[SessionRecord]:
    async with open_database(settings) as database, database.transaction() as tx:
        return await upcoming_sessions(tx, now=utcnow(), sites=[site] if site is not None else None)


def run_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    announce_database(settings)
    found = run_reporting(_list(settings, args.site))
    if not found:
        emit("no upcoming session")
    for session in found:
        emit(
            "\t".join(
                [
                    session.id,
                    paris_text(session.starts_at),
                    f"{session.duration_minutes} min",
                    session.site,
                    ",".join(session.programmes),
                    f"{session.seats_taken} taken",
                    f"{session.seats_left} left",
                    f"of {session.capacity}",
                    session.place or session.video_url or "",
                ]
            )
        )
    return 0


def _told(session_id: str, done: str, told: int | None) -> int:
    if told is None:
        raise CliError(f"session {session_id}: unknown or cancelled")
    people = "person was" if told == 1 else "people were"
    emit(f"session {session_id} {done}: {told} {people} told")
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    by = _by(args)
    settings = load_settings()
    announce_database(settings)

    async def cancel(appointments: Appointments) -> int | None:
        return await appointments.cancel_session(args.id[:64], by=by)

    return _told(args.id, "cancelled", run_reporting(_with_appointments(settings, cancel)))


def run_move(args: argparse.Namespace) -> int:
    starts_at = _start(args.start)
    by = _by(args)
    settings = load_settings()
    announce_database(settings)

    async def move(appointments: Appointments) -> int | None:
        return await appointments.move_session(args.id[:64], starts_at, by=by)

    try:
        told = run_reporting(_with_appointments(settings, move))
    except SessionProblem as error:
        raise CliError(_problems(error)) from None
    return _told(args.id, f"moved to {paris_text(starts_at)}", told)
