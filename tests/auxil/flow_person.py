"""A conversation on the engine alone, driven input by input as a channel would."""

from __future__ import annotations

from flows import engine
from flows.flow import Flow
from flows.messages import Input
from flows.render import render_turn
from flows.state import ConversationState

# No session open: the booking step is skipped (flows/offers.py).
CONTEXT = {"sessions": [], "privacy_url": "/confidentialite"}


class Person:
    """A conversation driven input by input, as a channel would."""

    def __init__(self, flow: Flow, language: str = "fr") -> None:
        self.flow = flow
        self.turn = engine.start(flow, language=language, context=CONTEXT)  # type: ignore[arg-type]

    def send(self, **kwargs: object) -> engine.Turn:
        received = Input(**kwargs)  # type: ignore[arg-type]
        self.turn = engine.handle(self.flow, self.turn.state, received, context=CONTEXT)
        return self.turn

    @property
    def state(self) -> ConversationState:
        return self.turn.state

    @property
    def asking(self) -> str | None:
        return self.turn.question.field if self.turn.question else None

    def texts(self) -> list[str]:
        return [
            m.text for m in render_turn(self.turn.messages, self.turn.question, self.state.language)
        ]

    def answer(self, *answers: object) -> None:
        for answer in answers:
            if isinstance(answer, tuple):
                self.send(choices=answer)
            elif isinstance(answer, str) and answer.startswith("="):
                self.send(text=answer[1:])
            else:
                self.send(choice=answer)
