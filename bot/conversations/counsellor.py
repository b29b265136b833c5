"""A counsellor talking with a person through the bot, the script paused meanwhile.

While a counsellor holds a conversation, what the person sends goes to the transcript (the
lead page shows it) and the script does not answer; /supprimer and /mes_donnees still work.
Handing back resumes the script where it was, with its current question asked again.
A counsellor's message counts as activity: the person's web session stays open while they talk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.channels.writers import WRITABLE, Writers
from bot.conversations import repository
from bot.conversations.repository import Held, conversation_of_lead
from bot.conversations.service import ConversationService
from bot.storage.database import Transaction
from flows.i18n import parse_language, text
from flows.render import RenderedMessage, RenderedQuestion

MAX_MESSAGE = 2000


class NoConversation(LookupError):
    """The lead's conversation is gone (erased by the person, or past its retention)."""


@dataclass(frozen=True)
class StaffMessage:
    """A counsellor's message, recorded; ``reached``: False when the person's channel cannot
    carry it now (WhatsApp more than 24 hours after their last message, without a template):
    the counsellor is told to phone them."""

    held: Held
    reached: bool


async def send_staff_message(
    tx: Transaction, writers: Writers, lead_id: str, *, author: str, body: str, now: datetime
) -> StaffMessage:
    """Deliver a counsellor's message to the person, and pause the script for them."""
    held = await conversation_of_lead(tx, lead_id)
    if held is None:
        raise NoConversation(lead_id)
    await repository.hold(tx, held.conversation_id, author=author, now=now)
    language = parse_language(held.language)
    shown = text("staff.prefix", language) + "\n" + body[:MAX_MESSAGE]
    await repository.record_transcript(tx, held.conversation_id, [("staff", shown)], now=now)
    written = await writers.write(
        tx,
        held.channel,
        held.external_id,
        [RenderedMessage(text=shown)],
        step=None,
        language=language,
        purpose="counsellor",
        now=now,
    )
    # The web chat polls for it; other channels need it written.
    return StaffMessage(held, reached=written or held.channel not in WRITABLE)


async def hand_back(
    tx: Transaction, service: ConversationService, lead_id: str, *, now: datetime
) -> Held:
    """Resume the script: the person is told, and asked the current question again."""
    held = await conversation_of_lead(tx, lead_id)
    if held is None:
        raise NoConversation(lead_id)
    await repository.release(tx, held.conversation_id, now=now)
    language = parse_language(held.language)
    peeked = await service.peek(tx, channel=held.channel, external_id=held.external_id)
    messages = [RenderedMessage(text=text("staff.handed_back", language))]
    step = None
    if peeked is not None and not peeked[0].done:
        step = peeked[0].step
        messages += peeked[1][-1:]
    entries = [("staff", m.text) for m in messages]
    await repository.record_transcript(tx, held.conversation_id, entries, now=now)
    await service.writers.write(
        tx,
        held.channel,
        held.external_id,
        messages,
        step=step,
        language=language,
        purpose="counsellor",
        now=now,
    )
    return held


@dataclass(frozen=True)
class Pushed:
    """What the web chat has not shown yet of what counsellors wrote."""

    messages: list[tuple[int, str]]
    # A counsellor holds the conversation: the page says so, and the script waits.
    held: bool
    # Once handed back, the question asked again: a web page draws its buttons from it.
    question: RenderedQuestion | None


async def pushed_messages(
    tx: Transaction, service: ConversationService, *, channel: str, external_id: str, after: int
) -> Pushed:
    """For the web chat, which cannot be written to: counsellor messages after an id, whether
    a counsellor holds the conversation, and the current question once handed back."""
    found = await repository.holder(tx, channel=channel, external_id=external_id)
    if found is None:
        return Pushed([], False, None)
    conversation_id, held = found
    entries = await repository.staff_messages(tx, conversation_id, after=after)
    question = None
    if entries and not held:
        peeked = await service.peek(tx, channel=channel, external_id=external_id)
        if peeked is not None and not peeked[0].done:
            question = peeked[1][-1].question
    return Pushed(entries, held, question)
