"""``aiguillage serve``: a broken flow file stops it with one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn

from webhook.cli import main

BROKEN = """\
id: broken
version: "1"
start: hello
steps:
  hello:
    say: [welcome.hello]
    next: ghost
"""


def never_serve(*args: object, **kwargs: object) -> None:
    raise AssertionError("serve started despite the broken flow file")


def test_a_broken_flow_file_stops_serve_with_one_line_per_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    monkeypatch.setenv("AIGUILLAGE_FLOWS_DIR", str(tmp_path))
    monkeypatch.setattr(uvicorn, "run", never_serve)
    assert main(["serve"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "broken.yaml: step 'hello': leads to unknown step 'ghost'",
        "aiguillage serve: 1 problem in flow files",
    ]


def test_a_port_out_of_range_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert capsys.readouterr().err == "aiguillage serve: --port: expected 1-65535, got 70000\n"
