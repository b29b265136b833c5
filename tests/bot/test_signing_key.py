"""The admin cookies' key: never a known constant, made once and kept, its origin logged."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from bot.signing_key import load_signing_key


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "ENVIRONMENT", "SECRET_KEY", "SECRET_KEY_FILE"):
        monkeypatch.delenv(f"AIGUILLAGE_{name}", raising=False)


def sqlite_at(path: Path) -> str:
    return f"sqlite:///{path}"


def test_without_a_key_one_is_made_beside_the_database_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(database_url=sqlite_at(tmp_path / "aiguillage.db"))
    with caplog.at_level(logging.INFO, logger="bot.signing_key"):
        first = load_signing_key(settings)
    kept = tmp_path / "aiguillage.secret"
    assert kept.read_text().strip() == first.value.get_secret_value()
    assert len(first.value.get_secret_value()) >= 64
    # Only the service's user may read it.
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    # The log says where the key comes from, never the key.
    assert [r.getMessage() for r in caplog.records] == [
        f"admin sessions signed with the key from {kept}"
    ]
    assert first.value.get_secret_value() not in caplog.text
    # A restart signs with the same key: sessions survive it.
    assert load_signing_key(settings).value == first.value
    # Another database, another key.
    other = load_settings(database_url=sqlite_at(tmp_path / "other.db"))
    assert load_signing_key(other).value != first.value


def test_a_configured_key_is_used_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "k" * 40)
    settings = load_settings(database_url=sqlite_at(tmp_path / "aiguillage.db"))
    with caplog.at_level(logging.INFO, logger="bot.signing_key"):
        key = load_signing_key(settings)
    assert key.value.get_secret_value() == "k" * 40
    assert caplog.records[0].getMessage() == (
        "admin sessions signed with the key from AIGUILLAGE_SECRET_KEY"
    )
    assert not (tmp_path / "aiguillage.secret").exists()


def test_with_postgresql_the_key_is_kept_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(database_url="postgresql://u@db/aiguillage")
    key = load_signing_key(settings)
    kept = tmp_path / "data" / "aiguillage" / "aiguillage.secret"
    assert kept.read_text().strip() == key.value.get_secret_value()
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY_FILE", str(tmp_path / "state" / "key"))
    elsewhere = load_signing_key(load_settings(database_url="postgresql://u@db/aiguillage"))
    assert (tmp_path / "state" / "key").read_text().strip() == elsewhere.value.get_secret_value()


def test_an_in_memory_database_gets_a_key_for_the_run_only(tmp_path: Path) -> None:
    settings = load_settings(database_url="sqlite+aiosqlite://")
    first, second = load_signing_key(settings), load_signing_key(settings)
    assert first.value != second.value
    assert first.source == "this run only"
    assert list(tmp_path.iterdir()) == []


def test_an_unusable_key_file_stops_start_up_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "aiguillage.secret").write_text("changethis\n")
    settings = load_settings(database_url=sqlite_at(tmp_path / "aiguillage.db"))
    with pytest.raises(SettingsError) as caught:
        load_signing_key(settings)
    message = str(caught.value)
    assert message.startswith("AIGUILLAGE_SECRET_KEY_FILE: ")
    assert "holds no usable key" in message
    assert "\n" not in message
    assert "changethis" not in message


def test_a_key_file_that_cannot_be_written_stops_start_up_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY_FILE", str(tmp_path / "a-file" / "key"))
    with pytest.raises(
        SettingsError, match="^AIGUILLAGE_SECRET_KEY_FILE: cannot read the key kept in"
    ):
        load_signing_key(load_settings())


@pytest.mark.parametrize("placeholder", ["changethis", "change-me", "secret", " CHANGETHIS "])
def test_a_placeholder_key_is_refused_in_every_environment(
    monkeypatch: pytest.MonkeyPatch, placeholder: str
) -> None:
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", placeholder)
    with pytest.raises(SettingsError, match="^AIGUILLAGE_SECRET_KEY: a placeholder known"):
        load_settings()


def test_production_refuses_to_start_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGUILLAGE_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="^AIGUILLAGE_SECRET_KEY: expected a random value"):
        load_settings()
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "short")
    with pytest.raises(SettingsError, match="^AIGUILLAGE_SECRET_KEY: expected a random value"):
        load_settings()
