"""A counsellor talking with a person through the bot, the script paused meanwhile.

While a counsellor holds a conversation, what the person sends goes to the transcript (the
lead page shows it) and the script does not answer; /supprimer and /mes_donnees still work.
Handing back resumes the script where it was, with its current question asked again.
A counsellor's message counts as activity: the person's web session stays open while they talk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.channels.telegram.render import queue_for_sender, reply_calls
from bot.conversations.service import ConversationService, record_transcript
from bot.storage.database import Transaction
from bot.storage.values import as_datetime
from flows.i18n import parse_language, text
from flows.render import RenderedMessage, RenderedQuestion

MAX_MESSAGE = 2000


class NoConversation(LookupError):
    """The lead's conversation is gone (erased by the person, or past its retention)."""


@dataclass(frozen=True)
class Held:
    conversation_id: str
    channel: str
    external_id: str
    language: str
    held_by: str | None
    held_at: datetime | None


async def conversation_of_lead(tx: Transaction, lead_id: str) -> Held | None:
    row = await tx.fetch_one(
        "SELECT c.id, c.channel, c.external_id, c.language, c.held_by, c.held_at"
        " FROM leads l JOIN conversations c ON c.id = l.conversation_id WHERE l.id = :id",
        {"id": lead_id},
    )
    if row is None:
        return None
    return Held(
        row["id"],
        row["channel"],
        row["external_id"],
        row["language"],
        row["held_by"],
        as_datetime(row["held_at"]),
    )


async def send_staff_message(
    tx: Transaction, lead_id: str, *, author: str, body: str, now: datetime
) -> Held:
    """Deliver a counsellor's message to the person, and pause the script for them."""
    held = await conversation_of_lead(tx, lead_id)
    if held is None:
        raise NoConversation(lead_id)
    await tx.write(
        "UPDATE conversations SET held_by = :author, held_at = COALESCE(held_at, :now),"
        " remind_at = NULL, close_at = NULL, updated_at = :now WHERE id = :id",
        {"author": author, "now": now, "id": held.conversation_id},
    )
    language = parse_language(held.language)
    shown = text("staff.prefix", language) + "\n" + body[:MAX_MESSAGE]
    await record_transcript(tx, held.conversation_id, [("staff", shown)])
    if held.channel == "telegram":
        chat_id = int(held.external_id)
        message = [RenderedMessage(text=shown)]
        await queue_for_sender(
            tx, reply_calls(chat_id, message, step=None, language=language), now=now
        )
    return held


async def hand_back(
    tx: Transaction, service: ConversationService, lead_id: str, *, now: datetime
) -> Held:
    """Resume the script: the person is told, and asked the current question again."""
    held = await conversation_of_lead(tx, lead_id)
    if held is None:
        raise NoConversation(lead_id)
    await tx.write(
        "UPDATE conversations SET held_by = NULL, held_at = NULL, updated_at = :now WHERE id = :id",
        {"id": held.conversation_id, "now": now},
    )
    language = parse_language(held.language)
    peeked = await service.peek(tx, channel=held.channel, external_id=held.external_id)
    messages = [RenderedMessage(text=text("staff.handed_back", language))]
    step = None
    if peeked is not None and not peeked[0].done:
        step = peeked[0].step
        messages += peeked[1][-1:]
    await record_transcript(tx, held.conversation_id, [("staff", m.text) for m in messages])
    if held.channel == "telegram":
        chat_id = int(held.external_id)
        await queue_for_sender(
            tx, reply_calls(chat_id, messages, step=step, language=language), now=now
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
    row = await tx.fetch_one(
        "SELECT id, held_by FROM conversations WHERE channel = :channel"
        " AND external_id = :external_id",
        {"channel": channel, "external_id": external_id},
    )
    if row is None:
        return Pushed([], False, None)
    entries = await tx.fetch(
        "SELECT id, body FROM transcript_entries WHERE conversation_id = :id"
        " AND direction = 'staff' AND id > :after ORDER BY id LIMIT 50",
        {"id": row["id"], "after": after},
    )
    held = row["held_by"] is not None
    question = None
    if entries and not held:
        peeked = await service.peek(tx, channel=channel, external_id=external_id)
        if peeked is not None and not peeked[0].done:
            question = peeked[1][-1].question
    return Pushed([(int(e["id"]), e["body"]) for e in entries], held, question)
