"""The command line answers ``--help`` without loading the web service, Telegram or SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.migrate import upgrade_database
from webhook.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("fastapi", "telegram", "sqlalchemy", "uvicorn", "alembic")
LOADED_AFTER = """\
import sys
from webhook.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(" ".join(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


@pytest.mark.parametrize(
    "argv", [["--help"], ["orient", "--help"], ["flows", "check", "--help"]], ids=" ".join
)
def test_help_loads_nothing_heavy(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert done.stdout.splitlines()[-1] == ""


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_its_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: aiguillage {command} ")
    assert COMMANDS[command][1] in out


def test_the_list_of_commands_names_each_with_its_purpose(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command, (_, purpose) in COMMANDS.items():
        assert command in out
        assert purpose.split()[0] in out


def test_an_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["leads", "list"], ["endpoints", "list"], ["deliveries", "list"]], ids=" ".join
)
def test_listing_commands_read_the_database_without_loading_the_web_stack(
    argv: list[str], tmp_path: Path
) -> None:
    # Their statements are SQLAlchemy Core (one way to the database), run on the drivers: no
    # web framework, Telegram client or migration tool is loaded to read a table.
    database = f"sqlite+aiosqlite:///{tmp_path / 'listing.db'}"
    upgrade_database(database)  # already current, as on every start but the first
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={**environment, "AIGUILLAGE_DATABASE_URL": database},
    )
    assert "database:" in done.stderr
    assert done.stdout.splitlines()[-1] == "sqlalchemy"


def test_an_argument_that_is_not_utf8_is_named_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What a shell passes for bytes that are not UTF-8 (Python's surrogateescape).
    place = "12 rue \udced\udcb2\udc80 Hoche 😀"
    status = main(
        ["sessions", "add", "--programme", "ecole_du_web", "--site", "pantin",
         "--start", "2027-05-11 10:00", "--capacity", "12", "--place", place]
    )  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("aiguillage sessions: not valid UTF-8 text: 12 rue \\udced")
    assert "Hoche 😀" in err
    assert "Traceback" not in err
