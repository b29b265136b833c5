"""People booking a session through the conversation service, on any channel, for the tests
of what counsellors do with bookings (their pages, attendance, cancelling)."""

from __future__ import annotations

from typing import Any

from bot.conversations.service import ConversationService, Reply
from flows.messages import Input
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for


async def book_soonest(
    service: ConversationService,
    channel: str,
    external_id: str,
    profile: dict[str, Any] = SAMIR_IN_PANTIN,
) -> Reply:
    """A conversation on ``channel`` from its start to its end, picking the soonest date."""

    async def send(**body: Any) -> Reply:
        return await service.handle(
            channel=channel, external_id=external_id, received=Input(**body)
        )

    reply = await send(command="start")
    for _ in range(40):
        if reply.done:
            assert reply.booking is not None, "no date was offered"
            return reply
        question = reply.messages[-1].question
        assert question is not None
        reply = await send(**answer_for(question.model_dump(), profile))
    raise AssertionError("the conversation did not end")
