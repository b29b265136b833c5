"""Typed commands mean the same on every channel."""

from __future__ import annotations

import pytest

from bot.conversations.commands import typed_command
from flows.messages import Input


@pytest.mark.parametrize(
    ("text", "command", "payload"),
    [
        ("/retour", "back", None),
        ("/Recommencer", "restart", None),
        ("/conseiller@AiguillageBot", "human", None),
        ("/langue en", "language", "en"),
        ("/start ML_POISSY", "start", "ML_POISSY"),
    ],
)
def test_typed_commands(text: str, command: str, payload: str | None) -> None:
    assert typed_command(Input(text=text)) == Input(command=command, payload=payload)


@pytest.mark.parametrize("text", ["93500", "/inconnu", "/ ", "retour"])
def test_other_texts_are_left_as_answers(text: str) -> None:
    assert typed_command(Input(text=text)) == Input(text=text)
