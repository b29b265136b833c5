"""Turning engine outputs into text in a language: the one place texts are filled in."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from flows.flow import InputKind
from flows.i18n import Language, text
from flows.messages import Join, Literal, Question, Say, Text

# A tuple, built once: ``Say | Literal | Join`` would build a union type at every call.
_TEXTS = (Say, Literal, Join)


def render(value: Text, language: Language) -> str:
    """The text of an output in a language; nested texts in parameters are rendered too."""
    if isinstance(value, Literal):
        return value.text
    if isinstance(value, Join):
        return value.separator.join(render(part, language) for part in value.parts)
    params = {
        name: render(param, language) if isinstance(param, _TEXTS) else param
        for name, param in value.params.items()
    }
    return text(value.message_id, language, **params)


class RenderedChoice(BaseModel):
    value: str
    label: str


class RenderedQuestion(BaseModel):
    field: str | None
    kind: InputKind
    choices: list[RenderedChoice]
    # For a multi question: how to offer answering none of the choices ("Aucune").
    none: str | None = None


class RenderedLink(BaseModel):
    """A link shown under a message (the web chat's calendar file)."""

    url: str
    label: str


class RenderedMessage(BaseModel):
    text: str
    question: RenderedQuestion | None = None
    link: RenderedLink | None = None


def render_turn(
    messages: Sequence[Text], question: Question | None, language: Language
) -> list[RenderedMessage]:
    """A turn's outputs as texts; the question rides on the last message."""
    rendered = [RenderedMessage(text=render(m, language)) for m in messages]
    if question is not None:
        rendered.append(
            RenderedMessage(
                text=render(question.text, language),
                question=RenderedQuestion(
                    field=question.field,
                    kind=question.kind,
                    choices=[
                        RenderedChoice(value=o.value, label=render(o.label, language))
                        for o in question.options
                    ],
                    none=render(question.none_label, language) if question.none_label else None,
                ),
            )
        )
    return rendered
