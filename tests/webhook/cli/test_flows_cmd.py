"""``aiguillage flows check`` and ``flows graph``."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.flow_loader import FLOWS_DIR
from webhook.cli import main

BROKEN = """\
id: broken
version: "1"
start: hello
steps:
  hello:
    say: [welcome.hello, welcome.no_such_text]
    next: ghost
  orphan:
    say: [welcome.hello]
    end: true
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_check_passes_on_the_shipped_flows(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["flows", "check"], capsys)
    assert status == 0, err
    assert out.startswith("ok: prescreening (version 1+")
    assert "ok: catalogue" in out


def test_check_lists_every_problem_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    status, out, err = run(["flows", "check", "--dir", str(tmp_path)], capsys)
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert lines == [
        "broken.yaml: step 'hello': message 'welcome.no_such_text' has no French text"
        " in messages.yaml",
        "broken.yaml: step 'hello': leads to unknown step 'ghost'",
        "broken.yaml: step 'orphan': unreachable from 'hello'",
        "aiguillage flows: 3 problems in flow files",
    ]


def test_check_refuses_an_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["flows", "check", "--dir", str(tmp_path)], capsys)
    assert status == 2
    assert "no flow file" in err


def test_graph_prints_dot(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["flows", "graph", "prescreening", "--format", "dot"], capsys)
    assert status == 0
    assert out.startswith('digraph "prescreening" {')
    assert out.rstrip().endswith("}")


def test_graph_prints_mermaid_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["flows", "graph"], capsys)
    assert status == 0
    assert out == (FLOWS_DIR / "prescreening.mmd").read_text(encoding="utf-8")


def test_graph_names_the_known_flows(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["flows", "graph", "nope"], capsys)
    assert status == 2
    assert out == ""
    assert err == "aiguillage flows: unknown flow 'nope' (known: prescreening)\n"


def test_graph_writes_beside_the_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = (FLOWS_DIR / "prescreening.yaml").read_text(encoding="utf-8")
    (tmp_path / "prescreening.yaml").write_text(source, encoding="utf-8")
    status, out, _ = run(["flows", "graph", "--write", "--dir", str(tmp_path)], capsys)
    assert status == 0
    assert out == f"{tmp_path / 'prescreening.mmd'}\n"
    written = (tmp_path / "prescreening.mmd").read_text(encoding="utf-8")
    assert written == (FLOWS_DIR / "prescreening.mmd").read_text(encoding="utf-8")
    status, out, _ = run(
        ["flows", "graph", "--write", "--format", "dot", "--dir", str(tmp_path)], capsys
    )
    assert status == 0
    assert (tmp_path / "prescreening.dot").read_text(encoding="utf-8").startswith("digraph")
