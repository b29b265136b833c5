"""Talking to a ConversationService directly, as a channel would, up to a lead."""

from __future__ import annotations

from typing import Any

from bot.conversations.service import ConversationService, Reply
from flows.messages import Input
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for


async def finish_as_lead(
    service: ConversationService,
    person: str,
    profile: dict[str, Any] = SAMIR_IN_PANTIN,
    *,
    source: str | None = None,
    code: str | None = None,
) -> Reply:
    """A web chat conversation from its start (with a referral ``code``) to its end."""

    async def send(**body: Any) -> Reply:
        return await service.handle(
            channel="web", external_id=person, received=Input(**body), source=source
        )

    reply = await send(command="start", payload=code)
    for _ in range(40):
        if reply.done:
            return reply
        question = reply.messages[-1].question
        assert question is not None
        reply = await send(**answer_for(question.model_dump(), profile))
    raise AssertionError("the conversation did not end")


async def ask_again(service: ConversationService, person: str, source: str | None = None) -> Reply:
    """After the end, the person asks for a counsellor again and confirms the summary."""
    reply = await service.handle(
        channel="web", external_id=person, received=Input(command="human"), source=source
    )
    while not reply.done:
        reply = await service.handle(
            channel="web", external_id=person, received=Input(choice="confirm"), source=source
        )
    return reply
