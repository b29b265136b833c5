"""Every command finds the same database wherever it runs, and says which one it uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.auxil.servers import unused_port
from webhook.cli import main


@pytest.fixture
def data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data" / "aiguillage" / "aiguillage.db"


def folder(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


def test_commands_run_from_two_folders_share_one_database(
    data_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(folder(tmp_path, "one"))
    assert main(["referrers", "add", "ML_POISSY", "--name", "Mission locale de Poissy"]) == 0
    elsewhere = folder(tmp_path, "two")
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["referrers", "list"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ML_POISSY\tMission locale de Poissy")
    assert err == f"database: {data_home}\n"
    assert list(elsewhere.iterdir()) == []


def test_the_settings_file_read_is_named_too(
    data_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    here = folder(tmp_path, "checkout")
    (here / ".env").write_text("AIGUILLAGE_LOG_LEVEL=WARNING\n", encoding="utf-8")
    monkeypatch.chdir(here)
    assert main(["leads", "list"]) == 0
    assert capsys.readouterr().err == f"database: {data_home} (settings from {here / '.env'})\n"


def test_a_database_left_at_the_former_default_place_is_pointed_out(
    data_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    here = folder(tmp_path, "checkout")
    (here / "aiguillage.db").write_bytes(b"")
    monkeypatch.chdir(here)
    assert main(["leads", "list"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"database: {data_home}",
        f"note: {here / 'aiguillage.db'} is no longer the default database; to keep using it,"
        f" set AIGUILLAGE_DATABASE_URL=sqlite:///{here / 'aiguillage.db'}",
    ]


def test_a_database_folder_that_cannot_be_made_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{blocker}/db/aiguillage.db")
    assert main(["leads", "list"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (f"aiguillage leads: cannot create the folder {blocker}/db: Not a directory")


@pytest.mark.parametrize("argv", [["leads", "list"], ["referrers", "list"], ["db", "upgrade"]])
def test_a_database_nobody_listens_at_is_one_line_without_the_password(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = unused_port()
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"postgresql://app:pa55@127.0.0.1:{port}/aig")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(
        f"aiguillage {argv[0]}: cannot use the database postgresql://app@127.0.0.1:{port}/aig: "
    )
    assert "pa55" not in err
    assert "Traceback" not in err


def test_a_file_that_is_not_a_database_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "notes.db"
    garbage.write_text("not a database, " * 100, encoding="utf-8")
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{garbage}")
    assert main(["leads", "list"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"aiguillage leads: cannot use the database {garbage}: file is not a database"
    )
