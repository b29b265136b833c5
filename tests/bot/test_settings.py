"""A wrong setting stops start-up with one line naming the variable."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))  # no developer .env
    for name in ("DATABASE_URL", "ENVIRONMENT", "SECRET_KEY", "TELEGRAM_TOKEN", "PUBLIC_URL"):
        monkeypatch.delenv(f"AIGUILLAGE_{name}", raising=False)


def test_defaults_need_nothing() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./aiguillage.db"
    assert settings.telegram_token is None


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
