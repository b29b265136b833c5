"""People who go more or less far through the real conversation service, for the funnel's
figures: where each stops, what becomes of their lead, and when they came."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from bot.appointments.bookings import BookingRecord
from bot.clock import utcnow
from bot.conversations.service import ConversationService
from bot.leads.store import lead_of_conversation
from bot.storage.models import Conversation
from flows.messages import Input
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for

# 2024-03-10 00:30 in Paris: still 9 March in UTC.
EARLY = datetime(2024, 3, 9, 23, 30, tzinfo=UTC)


async def converse(
    service: ConversationService,
    person: str,
    *,
    referrer: str | None = None,
    language: str | None = None,
    profile: dict[str, Any] | None = None,
    answers: dict[str | None, dict[str, Any]] | None = None,
    stop_at: str | None = None,
    back_at: str | None = None,
    channel: str = "web",
) -> str:
    """Talk as a person on a channel (the web chat unless told); the conversation's id.

    ``answers`` overrides the persona's answer for a field (None: the question without a
    field, under 15); the person leaves when asked ``stop_at``, and goes back once when asked
    ``back_at`` (then leaves).
    """
    reply = await service.handle(
        channel=channel,
        external_id=person,
        received=Input(command="start", payload=referrer),
        language=language,
    )
    conversation_id = reply.conversation_id
    assert conversation_id is not None
    for _ in range(40):
        if reply.done:
            break
        async with service.database.transaction() as tx:
            peeked = await service.peek(tx, channel=channel, external_id=person)
        assert peeked is not None
        rendered = peeked[1][-1].question
        assert rendered is not None
        question = rendered.model_dump()
        field = question["field"]
        if field == stop_at:
            break
        if field == back_at:
            back = Input(command="back")
            await service.handle(channel=channel, external_id=person, received=back)
            break
        body = (answers or {}).get(field) or answer_for(question, profile or SAMIR_IN_PANTIN)
        if "choices" in body:
            body = {"choices": tuple(body["choices"])}
        reply = await service.handle(channel=channel, external_id=person, received=Input(**body))
    else:
        raise AssertionError(f"{person}: the conversation did not end")
    return conversation_id


async def change_statuses(
    service: ConversationService, conversation_id: str, *statuses: str
) -> None:
    """A counsellor moving the conversation's lead through these statuses, in turn."""
    async with service.database.transaction() as tx:
        lead = await lead_of_conversation(tx, conversation_id)
        assert lead is not None
        for status in statuses:
            await service.handoff.change_status(tx, lead.id, status, changed_by="t", now=utcnow())


async def settle_bookings(
    service: ConversationService,
    bookings: Sequence[BookingRecord],
    chance: random.Random,
    *,
    cancelled: float,
    present: float,
    corrected: float,
) -> None:
    """What becomes of each booking, at random: cancelled by the person (``cancelled`` of them),
    marked present (``present``; then ``corrected`` of those marked absent after all), or left."""
    for booking in bookings:
        roll = chance.random()
        if roll < cancelled:
            await service.appointments.cancel_booking(booking.id, by="person")
        elif roll < cancelled + present:
            await service.appointments.mark_attendance(booking.id, True, by="c@poles.example")
            if chance.random() < corrected:
                await service.appointments.mark_attendance(booking.id, False, by="c@poles.example")


async def move_to(service: ConversationService, conversation_id: str, moment: datetime) -> None:
    """The conversation began at ``moment`` (the funnel's periods are of its start)."""
    async with service.database.transaction() as tx:
        await tx.run(
            update(Conversation).where(Conversation.id == conversation_id).values(created_at=moment)
        )
