"""What a WhatsApp message does: the step it causes, and the Graph API messages that show it.

The inbox, the outbox and their ordering are the messaging pipeline's (bot/messaging/); this
is WhatsApp's part of a step: reading the message (parse.py), checking a pressed button or a
numbered answer against the current question, and rendering the reply (render.py).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, cast

from bot.appointments.calendar_file import FILENAME
from bot.channels.buttons import step_matches
from bot.channels.whatsapp import CHANNEL
from bot.channels.whatsapp.parse import WA_ID, Inbound, numbered_answer, read_item
from bot.channels.whatsapp.render import document_call, reply_calls, text_calls
from bot.channels.whatsapp.updates import Item
from bot.channels.whatsapp.words import help_line
from bot.clock import utcnow
from bot.conversations import repository
from bot.conversations.repository import Found
from bot.conversations.service import ConversationService
from bot.messaging.outbox import ApiCall
from bot.messaging.processor import Step
from bot.storage.database import Transaction
from flows.events import Event
from flows.i18n import parse_language, text
from flows.messages import Input
from flows.render import RenderedMessage
from flows.state import ConversationState

logger = logging.getLogger(__name__)


def message_key(message_id: str) -> str:
    """What the inbox keeps of a message id: enough to recognise it, nothing to read in it."""
    return hashlib.sha256(message_id.encode()).hexdigest()


class WhatsAppSteps:
    """WhatsApp's side of the inbox (``bot.messaging.processor.Steps``)."""

    channel = CHANNEL

    def __init__(self, service: ConversationService) -> None:
        self.service = service

    def key(self, update: dict[str, Any]) -> tuple[str, int]:
        """A digest of Meta's message id, and its position (its timestamp, then its order in
        the notification).

        The digest, because a message id ("wamid.HBgL…") encodes the sender's number: the id
        kept for de-duplication, and named in logs, must not.
        """
        return message_key(str(update["id"])), int(update["position"])

    def chat_of(self, update: dict[str, Any]) -> int | None:
        wa_id = update.get("wa_id")
        return int(wa_id) if isinstance(wa_id, str) and WA_ID.fullmatch(wa_id) else None

    async def without_chat(self, update: dict[str, Any], *, webhook: bool) -> Step | None:
        return None  # every WhatsApp message comes from a person's number

    async def step(
        self, tx: Transaction, update: dict[str, Any], found: Found | None, *, webhook: bool
    ) -> Step:
        item = cast(Item, update)
        wa_id = item["wa_id"]
        inbound = read_item(item, own_number="+" + wa_id)
        step = Step(inbound.chat_id)
        if inbound.stop:
            # STOP, ARRÊT: nothing more from us, not even a reply, until they write again.
            await repository.set_reachable(
                tx, channel=CHANNEL, external_id=wa_id, reachable=False, now=utcnow()
            )
            return step
        if inbound.received is None and not inbound.help:
            return step  # a reaction: no answer expected
        await repository.reachable_again(tx, channel=CHANNEL, external_id=wa_id)
        if found is not None and found.row is not None and found.row.external_id != wa_id:
            found = None  # not this chat's (never expected): read it again
        if inbound.help:
            step.calls = await self._help(tx, wa_id)
            return step
        received, found = await self._checked_input(tx, wa_id, inbound, found)
        reply = await self.service.handle_in(
            tx, channel=CHANNEL, external_id=wa_id, received=received, found=found
        )
        step.erased = Event.ERASE_CONFIRMED in reply.events
        current = reply.state.step if reply.state else None
        step.calls = reply_calls(wa_id, reply.messages, step=current, language=reply.language)
        if reply.calendar is not None:
            caption = text("booking.calendar", reply.language)
            step.calls.append(document_call(wa_id, FILENAME, reply.calendar, caption))
        return step

    async def _checked_input(
        self, tx: Transaction, wa_id: str, inbound: Inbound, found: Found | None
    ) -> tuple[Input, Found | None]:
        """The input for the engine: a button of an old question, or numbers answering the
        current numbered question, are read against that question."""
        received = inbound.received
        assert received is not None
        if inbound.button_step is None and not inbound.numbered:
            return received, found
        if found is None:
            found = Found(await repository.find(tx, channel=CHANNEL, external_id=wa_id))
        if found.row is None:
            return (Input(command="start") if inbound.button_step else received), found
        state = ConversationState.model_validate_json(found.row.state)
        if inbound.button_step is not None:
            if state.step is None or state.erase_pending:
                return received, found  # the end's buttons and the erasure question
            if not step_matches(inbound.button_step, state.step):
                return Input(command="repeat", payload="old_button"), found
            return received, found
        if state.step is None or received.text is None:
            return received, found
        peeked = await self.service.peek(tx, channel=CHANNEL, external_id=wa_id)
        question = peeked[1][-1].question if peeked else None
        answer = numbered_answer(received.text, question) if question else None
        return answer or received, found

    async def _help(self, tx: Transaction, wa_id: str) -> list[ApiCall]:
        """The words that work at any time, then the current question again."""
        peeked = await self.service.peek(tx, channel=CHANNEL, external_id=wa_id)
        if peeked is None:
            return text_calls(wa_id, help_line("fr"))  # no conversation yet: French, as its start
        state, messages = peeked
        language = parse_language(state.language)
        shown = [RenderedMessage(text=help_line(language)), *messages[-1:]]
        return reply_calls(wa_id, shown, step=state.step, language=language)
