"""``aiguillage orient`` prints the orientation of a profile, or one clear error line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.auxil.personas import persona_params
from webhook.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("persona", persona_params())
def test_personas_through_the_command_line(
    persona: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(persona["profile"]), encoding="utf-8")
    status, out, _ = run(["orient", "--profile", str(path)], capsys)
    assert status == 0
    result = json.loads(out)
    assert result["iae"] == persona["expected"]["iae"]
    assert {p["id"]: p["fit"] for p in result["programmes"]} == persona["expected"]["fit"]
    assert result["sites"] == persona["expected"]["sites"]


def test_reads_stdin_and_speaks_english(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"age": 19, "situation": "none"}'))
    status, out, _ = run(["orient", "--profile", "-", "--lang", "en"], capsys)
    assert status == 0
    assert "we still need" in out
    assert json.loads(out)["missing"] == ["diploma_level", "france_travail"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"age": 300}', "age: Input should be less than or equal to 120"),
        ('{"postal_code": "abc"}', "postal_code: expected a French postal code"),
        ('{"criteria": ["foo"]}', "criteria: unknown criterion 'foo'"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ("", "not valid JSON"),
    ],
)
def test_a_bad_profile_exits_2_with_one_line(
    content: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "profile.json"
    path.write_text(content, encoding="utf-8")
    status, out, err = run(["orient", "--profile", str(path)], capsys)
    assert status == 2
    assert out == ""
    assert expected in err
    assert err.count("\n") == 1


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["orient", "--profile", str(tmp_path / "nope.json")], capsys)
    assert status == 2
    assert "cannot read" in err
