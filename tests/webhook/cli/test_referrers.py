"""``aiguillage referrers``: register a partner's code and get the links to share."""

from __future__ import annotations

import pytest

from webhook.cli import main


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", database_url)
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_BOT_USERNAME", "AiguillageBot")
    monkeypatch.setenv("AIGUILLAGE_PUBLIC_URL", "https://aiguillage.example.org")


def test_add_prints_the_telegram_and_web_links(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["referrers", "add", "ML_POISSY", "--name", "Mission locale de Poissy"]) == 0
    out = capsys.readouterr().out
    assert "https://t.me/AiguillageBot?start=ML_POISSY" in out
    assert "https://aiguillage.example.org/?start=ML_POISSY" in out
    assert main(["referrers", "list"]) == 0
    assert "Mission locale de Poissy" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["referrers", "add", "bad code!", "--name", "X"], "expected 1-64 characters"),
        (["referrers", "add", "x" * 65, "--name", "X"], "expected 1-64 characters"),
        (["referrers", "add", "OK", "--name", "  "], "--name"),
        (["referrers", "add", "unknown", "--name", "X"], "every unregistered code"),
    ],
)
def test_bad_codes_are_refused_with_one_line(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert problem in capsys.readouterr().err


def test_a_code_cannot_be_registered_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["referrers", "add", "FAIR", "--name", "Salon emploi"]) == 0
    assert main(["referrers", "add", "FAIR", "--name", "Autre"]) == 2
    assert "already registered" in capsys.readouterr().err


def test_with_whatsapp_on_add_also_prints_the_wa_me_link(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "TOKEN": "EAAtest",
        "PHONE_NUMBER_ID": "106540352242922",
        "APP_SECRET": "test-app-secret",
        "VERIFY_TOKEN": "test-verify-token",
        "NUMBER": "33612345678",
    }.items():
        monkeypatch.setenv(f"AIGUILLAGE_WHATSAPP_{name}", value)
    assert main(["referrers", "add", "ML_POISSY", "--name", "Mission locale de Poissy"]) == 0
    out = capsys.readouterr().out
    assert "https://wa.me/33612345678?text=Bonjour%20" in out
    assert "code%20partenaire%20%3A%20ML_POISSY" in out
