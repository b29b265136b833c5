"""What a Telegram update does: the step it causes, and the Bot API calls that show it.

The inbox, the outbox and their ordering are the messaging pipeline's (bot/messaging/); this
is Telegram's part of a step: reading the update (parse.py), checking a pressed button against
the current question, and rendering the reply as Bot API calls (render.py).
"""

from __future__ import annotations

import logging
from typing import Any, cast

from bot.appointments.calendar_file import FILENAME
from bot.channels.buttons import step_matches
from bot.channels.telegram import CHANNEL, group_notices
from bot.channels.telegram.parse import Inbound, chat_of, forged, presser, read_update
from bot.channels.telegram.render import document_call, keyboard, reply_calls
from bot.channels.telegram.updates import Update
from bot.clock import utcnow
from bot.conversations import repository
from bot.conversations.repository import Found
from bot.conversations.service import ConversationService
from bot.messaging import inbox
from bot.messaging.outbox import ApiCall
from bot.messaging.processor import Step
from bot.storage.database import Transaction
from flows.events import Event
from flows.i18n import parse_language, text
from flows.messages import Input
from flows.state import ConversationState

logger = logging.getLogger(__name__)


class TelegramSteps:
    """Telegram's side of the inbox (``bot.messaging.processor.Steps``)."""

    channel = CHANNEL

    def __init__(self, service: ConversationService) -> None:
        self.service = service

    def key(self, update: dict[str, Any]) -> tuple[str, int]:
        """Telegram numbers its updates in order: the number is both the id and the position."""
        return str(update["update_id"]), int(update["update_id"])

    def chat_of(self, update: dict[str, Any]) -> int | None:
        return chat_of(_typed(update))

    async def without_chat(self, update: dict[str, Any], *, webhook: bool) -> Step | None:
        """A press still gets its answer (inline mode, or a group), saying where to write."""
        inbound = read_update(_typed(update))
        if inbound.callback_query_id is None and forged(_typed(update)):
            logger.warning(
                "telegram update ignored: malformed", extra={"update_id": update["update_id"]}
            )
        calls = _press_answer(inbound)
        if not calls:
            return None
        return _with_webhook_answer(Step(presser(_typed(update)), calls), webhook)

    async def step(
        self, tx: Transaction, update: dict[str, Any], found: Found | None, *, webhook: bool
    ) -> Step:
        """Apply a taken update; the Bot API calls it needs (a press's answer maybe apart)."""
        inbound = read_update(_typed(update))
        calls = _press_answer(inbound)
        chat_id = inbound.chat_id
        if chat_id is None:
            return _with_webhook_answer(Step(0, calls), webhook)
        step = Step(chat_id, calls)
        await self._apply(tx, inbound, update["update_id"], step, found)
        return _with_webhook_answer(step, webhook)

    async def _apply(
        self,
        tx: Transaction,
        inbound: Inbound,
        update_id: int,
        step: Step,
        found: Found | None,
    ) -> None:
        chat_id = inbound.chat_id
        assert chat_id is not None
        if inbound.group:
            # Once per group: a command there is usually everyone trying the bot in turn.
            if await group_notices.first_group_notice(tx, chat_id, now=utcnow()):
                language = parse_language(inbound.language_code)
                reply = {"chat_id": chat_id, "text": text("repeat.group", language)}
                step.calls.append(ApiCall("sendMessage", reply))
            return
        if inbound.blocked is not None:
            await repository.set_reachable(
                tx,
                channel=CHANNEL,
                external_id=str(chat_id),
                reachable=not inbound.blocked,
                now=utcnow(),
            )
            return
        if found is not None and found.row is not None and found.row.external_id != str(chat_id):
            found = None  # not this chat's (never expected): read it again
        if inbound.media_group_id is not None and inbound.media_group_id == (
            await inbox.previous_album(tx, CHANNEL, chat_id, update_id)
        ):
            return  # the album's first part was re-prompted already
        received, found = await self._button_input(tx, inbound, step.calls, found)
        if received is not None:
            await self._answer(tx, inbound, received, step, found)

    async def _button_input(
        self, tx: Transaction, inbound: Inbound, calls: list[ApiCall], found: Found | None
    ) -> tuple[Input | None, Found | None]:
        """Check a pressed button against the current question; toggles only redraw.

        The conversation read for the check is handed on, so the step reads it once.
        """
        if inbound.button_step is None:
            return inbound.received, found
        external_id = str(inbound.chat_id)
        if found is None:
            found = Found(await repository.find(tx, channel=CHANNEL, external_id=external_id))
        if found.row is None:
            return Input(command="start"), found
        state = ConversationState.model_validate_json(found.row.state)
        if state.step is None or (state.erase_pending and inbound.button_step == ""):
            # The end's "restart" and the erasure question belong to no step.
            return inbound.received, found
        if not step_matches(inbound.button_step, state.step):
            return Input(command="repeat", payload="old_button"), found
        if inbound.toggle_mask is None and inbound.submit_mask is None:
            return inbound.received, found
        # Toggles and multi-select submits need the options, in order.
        peeked = await self.service.peek(tx, channel=CHANNEL, external_id=external_id)
        question = peeked[1][-1].question if peeked else None
        if question is None:
            return Input(command="repeat", payload="old_button"), found
        if inbound.toggle_mask is not None:
            markup = keyboard(question, state.step, state.language, inbound.toggle_mask)
            payload = {"chat_id": inbound.chat_id, "message_id": inbound.message_id}
            calls.append(ApiCall("editMessageReplyMarkup", {**payload, "reply_markup": markup}))
            return None, found
        mask = inbound.submit_mask or 0
        chosen = tuple(c.value for i, c in enumerate(question.choices) if mask >> i & 1)
        return Input(choices=chosen), found

    async def _answer(
        self,
        tx: Transaction,
        inbound: Inbound,
        received: Input,
        step: Step,
        found: Found | None,
    ) -> None:
        assert inbound.chat_id is not None
        reply = await self.service.handle_in(
            tx,
            channel=CHANNEL,
            external_id=str(inbound.chat_id),
            received=received,
            language=inbound.language_code,
            found=found,
        )
        step.erased = Event.ERASE_CONFIRMED in reply.events
        current = reply.state.step if reply.state else None
        step.calls.extend(
            reply_calls(
                inbound.chat_id,
                reply.messages,
                step=current,
                language=reply.language,
                remove_keyboard=reply.answered_kind == "phone",
                typing=Event.ORIENTATION_READY in reply.events,
            )
        )
        if reply.calendar is not None:
            caption = text("booking.calendar", reply.language)
            step.calls.append(document_call(inbound.chat_id, FILENAME, reply.calendar, caption))


def _typed(update: dict[str, Any]) -> Update:
    """An update as the pipeline stores it: the JSON Telegram sent (parse.py checks each field
    it reads)."""
    return cast(Update, update)


def _with_webhook_answer(step: Step, webhook: bool) -> Step:
    """With a webhook, the answer to a press rides in its response (Telegram makes the call)."""
    if webhook and step.calls and step.calls[0].method == "answerCallbackQuery":
        first = step.calls.pop(0)
        step.webhook_answer = {"method": first.method, **first.payload}
    return step


def _press_answer(inbound: Inbound) -> list[ApiCall]:
    """The answer to a press: every press is answered, or its button keeps spinning.

    A press outside a private chat (in a group, or on a message sent in inline mode) has no
    conversation to go on: its answer says where to write.
    """
    if inbound.callback_query_id is None:
        return []
    answer: dict[str, Any] = {"callback_query_id": inbound.callback_query_id}
    if inbound.chat_id is None:
        answer["text"] = text("telegram.press_elsewhere", parse_language(inbound.language_code))
    return [ApiCall("answerCallbackQuery", answer)]
