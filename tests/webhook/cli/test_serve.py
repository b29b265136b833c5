"""``aiguillage serve``: a broken flow file stops it with one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn

from tests.auxil.flow_files import write_broken_flow
from tests.auxil.servers import unused_port
from webhook.cli import main


def never_serve(*args: object, **kwargs: object) -> None:
    raise AssertionError("serve started despite the broken flow file")


def test_a_broken_flow_file_stops_serve_with_one_line_per_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_broken_flow(tmp_path)
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


def test_a_database_that_cannot_be_reached_stops_serve_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = unused_port()
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"postgresql://app:pa55@127.0.0.1:{port}/aig")
    monkeypatch.setattr(uvicorn, "run", never_serve)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(
        f"aiguillage serve: cannot use the database postgresql://app@127.0.0.1:{port}/aig: "
    )
    assert "pa55" not in err
