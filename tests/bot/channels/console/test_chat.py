"""``aiguillage chat`` runs the same conversation in a terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.channels.console.chat import converse, parse_line, show
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService, Reply
from bot.storage.database import open_database
from flows.render import RenderedChoice, RenderedMessage, RenderedQuestion
from tests.auxil.flow_files import write_broken_flow
from webhook.cli import main


async def test_a_terminal_conversation_reaches_the_orientation(database_url: str) -> None:
    database = open_database(database_url)
    service = ConversationService(database, FlowRegistry())
    await service.prepare()
    typed = "oui\n1\nvingt\n19 ans\n/retour\n19\n93500\n5\n1\n0\n1\n0\n1\n/quitter\n"
    out = io.StringIO()
    await converse(service, "console-test", "fr", io.StringIO(typed), out)
    await database.close()
    screen = out.getvalue()
    assert "1. Oui, c'est OK" in screen
    assert "Écris juste l'âge en chiffres" in screen
    assert "Voilà ce que PôleS peut te proposer" in screen
    assert "L'École du Web" in screen
    assert "--session console-test" in screen


def test_typed_commands_are_understood() -> None:
    assert parse_line("/retour\n").command == "back"  # type: ignore[union-attr]
    assert parse_line("/langue en").payload == "en"  # type: ignore[union-attr]
    assert parse_line("/conseiller").command == "human"  # type: ignore[union-attr]
    assert parse_line("/quitter") is None
    assert parse_line("93500").text == "93500"  # type: ignore[union-attr]


def test_a_multi_question_shows_its_own_none_as_choice_zero() -> None:
    question = RenderedQuestion(
        field="interests",
        kind="multi",
        choices=[RenderedChoice(value="digital", label="Le numérique")],
        none="Rien de particulier",
    )
    message = RenderedMessage(text="Qu'est-ce qui te plairait ?", question=question)
    out = io.StringIO()
    show(Reply(None, "fr", [message], done=False, orientation=None), out)
    assert "   1. Le numérique\n   0. Rien de particulier\n" in out.getvalue()
    assert "none" not in out.getvalue()


def test_a_broken_flow_file_stops_chat_with_one_line_per_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_broken_flow(tmp_path)
    monkeypatch.setenv("AIGUILLAGE_FLOWS_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["chat"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "broken.yaml: step 'hello': leads to unknown step 'ghost'",
        "aiguillage chat: 1 problem in flow files",
    ]
