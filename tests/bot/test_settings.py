"""A wrong setting stops start-up with one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))  # no developer .env
    for name in ("DATABASE_URL", "ENVIRONMENT", "SECRET_KEY", "TELEGRAM_TOKEN", "PUBLIC_URL"):
        monkeypatch.delenv(f"AIGUILLAGE_{name}", raising=False)


def test_defaults_need_nothing() -> None:
    settings = load_settings()
    assert settings.is_sqlite
    assert settings.telegram_token is None


def test_the_default_database_does_not_depend_on_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    expected = tmp_path / "data" / "aiguillage" / "aiguillage.db"
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        settings = load_settings()
        assert settings.database_url == f"sqlite+aiosqlite:///{expected}"
        assert settings.sqlite_path == expected


def test_without_xdg_data_home_the_database_is_in_the_home_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".local" / "share" / "aiguillage" / "aiguillage.db"
    assert load_settings().sqlite_path == expected


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("sqlite:///./here.db", "{cwd}/here.db"),
        ("sqlite:////srv/aiguillage.db", "/srv/aiguillage.db"),
        ("sqlite://", "SQLite in memory"),
        (
            "postgresql://app:pa55@db.example:5433/aig?password=pa55",
            "postgresql://app@db.example:5433/aig",
        ),
        ("postgres://db/aig", "postgresql://db/aig"),
    ],
)
def test_the_database_is_named_without_its_password(url: str, label: str) -> None:
    settings = load_settings(database_url=url)
    assert settings.database_label == label.format(cwd=Path.cwd())
    assert "pa55" not in settings.database_label


def test_plain_database_urls_get_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", "postgresql://u:p@db/aiguillage")
    assert load_settings().database_url == "postgresql+asyncpg://u:p@db/aiguillage"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://db", "AIGUILLAGE_DATABASE_URL: expected a sqlite"),
        ("TELEGRAM_TOKEN", "not-a-token", "AIGUILLAGE_TELEGRAM_TOKEN: expected a BotFather token"),
        ("PUBLIC_URL", "bot.example.org", "AIGUILLAGE_PUBLIC_URL: expected an http"),
        (
            "TELEGRAM_WEBHOOK_SECRET",
            "with space",
            "AIGUILLAGE_TELEGRAM_WEBHOOK_SECRET: expected 1-256",
        ),
        ("ENVIRONMENT", "staging", "AIGUILLAGE_ENVIRONMENT:"),
    ],
)
def test_a_wrong_value_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(f"AIGUILLAGE_{variable}", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_production_refuses_the_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGUILLAGE_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="^AIGUILLAGE_SECRET_KEY: expected a random value"):
        load_settings()
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "x" * 40)
    assert load_settings().environment == "production"


def test_secrets_are_not_shown_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_TOKEN", "leaky-secret-value")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "leaky-secret-value" not in str(caught.value)


def test_a_counsellors_group_without_a_bot_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIGUILLAGE_COUNSELLOR_CHAT_ID", "-1001234567")
    with pytest.raises(SettingsError, match="^AIGUILLAGE_COUNSELLOR_CHAT_ID: .*TELEGRAM_TOKEN"):
        load_settings()
    monkeypatch.setenv("AIGUILLAGE_COUNSELLOR_CHAT_ID", "the group")
    with pytest.raises(SettingsError, match="^AIGUILLAGE_COUNSELLOR_CHAT_ID: "):
        load_settings()
