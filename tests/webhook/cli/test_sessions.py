"""``aiguillage sessions``: open, list, move and cancel sessions from the command line; booked
people are told on their channel, and mistakes are one line, never a traceback."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import pytest

from bot.clock import PARIS, utcnow
from bot.settings import Settings
from bot.storage.database import open_database
from tests.auxil.bookings import book_soonest
from tests.auxil.outside_loop import rows
from webhook.cli import main
from webhook.services import build_services

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", database_url)


def paris(days: int, at: str = "10:00") -> str:
    """A start as the command takes it: in ``days`` days, at ``at``, Paris time."""
    return f"{(utcnow() + timedelta(days=days)).astimezone(PARIS):%Y-%m-%d} {at}"


def add(capsys: pytest.CaptureFixture[str], *extra: str, start: str | None = None) -> str:
    argv = ["sessions", "add", "--programme", "ecole_du_web", "--site", "pantin"]
    argv += ["--start", start or paris(3), "--capacity", "12", "--place", "12 rue Hoche, Pantin"]
    assert main([*argv, *extra]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out.strip()
    assert SESSION_ID.match(printed), printed
    return printed


def book_on_telegram(settings: Settings, chat: str) -> None:
    """Someone on Telegram talks to the service until they book the soonest session."""

    async def book() -> None:
        database = open_database(settings.database_url)
        try:
            conversations = build_services(settings, database).conversations
            await conversations.prepare()
            await book_soonest(conversations, "telegram", chat)
        finally:
            await database.close()

    asyncio.run(book())


def texts_to(settings: Settings, chat: str) -> list[str]:
    """What the outbox holds for a Telegram chat, oldest first."""
    found = rows(
        settings,
        "SELECT payload FROM outbox_messages WHERE channel = 'telegram' AND chat_id = :chat"
        " ORDER BY id",
        chat=int(chat),
    )
    payloads = [p["payload"] for p in found]
    return [(json.loads(p) if isinstance(p, str) else p).get("text", "") for p in payloads]


def test_add_prints_the_id_and_list_shows_the_seats_in_paris_time(
    capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    start = paris(3, "09:30")
    session_id = add(capsys, "--programme", "fabrique_numerique", "--duration", "90", start=start)
    book_on_telegram(settings, "4242")
    assert main(["sessions", "list"]) == 0
    [line] = capsys.readouterr().out.strip().splitlines()
    columns = line.split("\t")
    assert columns[:5] == [session_id, start, "90 min", "pantin", "ecole_du_web,fabrique_numerique"]
    assert columns[5:8] == ["1 taken", "11 left", "of 12"]
    assert main(["sessions", "list", "--site", "poissy"]) == 0
    assert capsys.readouterr().out.strip() == "no upcoming session"


def test_cancel_tells_the_booked_people_and_says_how_many(
    capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    session_id = add(capsys)
    book_on_telegram(settings, "4242")
    before = len(texts_to(settings, "4242"))
    assert main(["sessions", "cancel", session_id]) == 0
    assert capsys.readouterr().out.strip() == f"session {session_id} cancelled: 1 person was told"
    told = texts_to(settings, "4242")[before:]
    assert len(told) == 1
    assert "est annulée" in told[0]
    assert main(["sessions", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no upcoming session"
    # Once only.
    assert main(["sessions", "cancel", session_id]) == 2
    assert "unknown or cancelled" in capsys.readouterr().err


def test_move_gives_a_new_start_and_tells_the_booked_people(
    capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    session_id = add(capsys)
    book_on_telegram(settings, "4242")
    before = len(texts_to(settings, "4242"))
    new_start = paris(5, "14:00")
    assert main(["sessions", "move", session_id, "--start", new_start]) == 0
    assert (
        capsys.readouterr().out.strip()
        == f"session {session_id} moved to {new_start}: 1 person was told"
    )
    [told] = texts_to(settings, "4242")[before:]
    assert "est déplacée" in told
    assert main(["sessions", "list"]) == 0
    assert f"\t{new_start}\t" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--start", "demain 10h"], '--start: expected "YYYY-MM-DD HH:MM", Paris time'),
        (["--start", "2020-01-06 10:00"], "--start: must be in the future"),
        (["--start", "2030-03-31 02:30"], "--start: 2030-03-31 02:30 does not exist in Paris"),
        (["--programme", "astrologie"], "--programme: unknown 'astrologie'"),
        (["--site", "atlantis"], "--site: unknown 'atlantis'"),
        (["--capacity", "0"], "--capacity: between 1 and 500"),
        (["--duration", "1"], "--duration: between 5 and 480 minutes"),
        (["--place", " "], "--place: a place or a video link is needed"),
        (["--video", "http://visio.example"], "--video: an https:// link"),
        (["--by", " "], "--by: expected 1-254 characters"),
    ],
)
def test_a_wrong_option_is_one_line_naming_it(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    base = {
        "--programme": "ecole_du_web",
        "--site": "pantin",
        "--start": paris(3),
        "--capacity": "12",
        "--place": "12 rue Hoche, Pantin",
    }
    options = dict(base)
    options.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    line = ["sessions", "add"] + [part for pair in options.items() for part in pair]
    assert main(line) == 2
    err = capsys.readouterr().err
    assert problem in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2  # the database line, then the problem
    assert rows(settings, "SELECT id FROM appointment_sessions") == []


def test_unknown_ids_and_bad_starts_on_move_and_cancel_are_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    session_id = add(capsys)
    for argv, problem in [
        (["cancel", "0" * 32], "unknown or cancelled"),
        (["move", "0" * 32, "--start", paris(4)], "unknown or cancelled"),
        (["move", session_id, "--start", "2020-01-06 10:00"], "--start: must be in the future"),
        (["move", session_id, "--start", "soon"], "--start: expected"),
    ]:
        assert main(["sessions", *argv]) == 2
        err = capsys.readouterr().err
        assert problem in err, argv
        assert "Traceback" not in err


def test_a_programme_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_status:
        main(["sessions", "add", "--site", "pantin", "--start", paris(3), "--capacity", "3"])
    assert exit_status.value.code == 2
    assert "--programme" in capsys.readouterr().err
