"""Channel-neutral outputs of the engine: message ids with parameters, and questions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows.flow import InputKind


@dataclass(frozen=True)
class Say:
    """A text by message id; parameters may themselves be ``Say`` (rendered in turn)."""

    message_id: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Literal:
    """Text shown as it is (a site name, an answer the person typed)."""

    text: str


@dataclass(frozen=True)
class Join:
    """Several texts shown as one list."""

    parts: tuple[Say | Literal, ...]
    separator: str = ", "


Text = Say | Literal | Join


@dataclass(frozen=True)
class Option:
    value: str
    label: Text


@dataclass(frozen=True)
class Question:
    """What the engine waits for: the step, the profile field it fills and how to answer."""

    step: str
    field: str | None
    kind: InputKind
    text: Text
    options: tuple[Option, ...] = ()
    # A multi question's label for answering none of its options ("Rien de particulier").
    none_label: Text | None = None


@dataclass(frozen=True)
class Input:
    """What a person sent: typed text, one choice, several choices, or a command."""

    text: str | None = None
    choice: str | None = None
    choices: tuple[str, ...] | None = None
    command: str | None = None
    payload: str | None = None
