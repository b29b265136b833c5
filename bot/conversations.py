"""Running conversations: load the state, apply the engine, persist every step."""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import typed_command
from bot.flow_registry import FlowRegistry
from bot.storage.models import Conversation, TranscriptEntry
from flows import engine
from flows.flow import Flow
from flows.i18n import Language, parse_language
from flows.messages import Input, Say
from flows.render import RenderedMessage, render, render_turn
from flows.rules import Orientation
from flows.state import ConversationState

logger = logging.getLogger(__name__)
DEFAULT_FLOW = "prescreening"
DEFAULT_PRIVACY_URL = "/confidentialite"
REFERRAL_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class Reply:
    """What a channel shows after one input."""

    conversation_id: str
    language: Language
    messages: list[RenderedMessage]
    done: bool
    orientation: Orientation | None
    events: list[str] = field(default_factory=list)
    state: ConversationState | None = None


class ConversationService:
    """One entry point for every channel: web chat, console, Telegram."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        registry: FlowRegistry,
        *,
        context: Mapping[str, Any] | None = None,
        flow_id: str = DEFAULT_FLOW,
    ) -> None:
        self.session_factory = session_factory
        self.registry = registry
        self.context = {"privacy_url": DEFAULT_PRIVACY_URL, **(context or {})}
        self.flow_id = flow_id
        # Inputs of one person are applied one at a time, in order of arrival.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def prepare(self) -> None:
        """Record the current flow definitions (call once at start-up)."""
        async with self.session_factory() as session, session.begin():
            await self.registry.record_current(session)

    def _lock(self, channel: str, external_id: str) -> asyncio.Lock:
        key = (channel, external_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def handle(
        self,
        *,
        channel: str,
        external_id: str,
        received: Input,
        language: str | None = None,
    ) -> Reply:
        """Apply one input to the person's conversation, starting one if there is none."""
        received = typed_command(_without_nul(received))
        async with self._lock(channel, external_id):
            for attempt in range(2):
                try:
                    return await self._handle_once(channel, external_id, received, language)
                except IntegrityError:
                    # Another worker created the same conversation at the same moment.
                    if attempt:
                        raise
            raise AssertionError("unreachable")

    async def _handle_once(
        self, channel: str, external_id: str, received: Input, language: str | None
    ) -> Reply:
        async with self.session_factory() as session, session.begin():
            query = select(Conversation).where(
                Conversation.channel == channel, Conversation.external_id == external_id
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update()
            row = await session.scalar(query)
            current = self.registry.current[self.flow_id]
            if row is None:
                turn = engine.start(
                    current, language=parse_language(language), context=self.context
                )
                row = Conversation(
                    channel=channel,
                    external_id=external_id,
                    flow_id=current.id,
                    flow_version=current.pinned_version,
                    referrer_code=_referral_code(received),
                )
                session.add(row)
                await session.flush()
                flow = current
            else:
                state = ConversationState.model_validate(row.state)
                flow = await self.registry.pinned(session, row.flow_id, row.flow_version)
                if received.command == "restart" or (received.command == "start" and state.done):
                    # A fresh start runs on the newest flow, keeping the person's language.
                    turn = engine.start(current, language=state.language, context=self.context)
                    turn.events.append("restarted")
                    flow = current
                else:
                    turn = engine.handle(flow, state, received, context=self.context)
                if row.referrer_code is None:
                    row.referrer_code = _referral_code(received)
                session.add(
                    TranscriptEntry(
                        conversation_id=row.id,
                        direction="in",
                        body=_describe(flow, state, received),
                    )
                )
            return await self._save(session, row, turn)

    async def _save(self, session: AsyncSession, row: Conversation, turn: engine.Turn) -> Reply:
        state = turn.state
        messages = render_turn(turn.messages, turn.question, state.language)
        row.state = state.model_dump(mode="json")
        row.flow_version = state.flow_version
        row.language = state.language
        row.status = "done" if state.done else "active"
        for message in messages:
            session.add(TranscriptEntry(conversation_id=row.id, direction="out", body=message.text))
        logger.info(
            "conversation step",
            extra={"conversation": row.id, "step": state.step, "events": turn.events},
        )
        return Reply(
            conversation_id=row.id,
            language=state.language,
            messages=messages,
            done=state.done,
            orientation=engine.current_orientation(state),
            events=turn.events,
            state=state,
        )


def _without_nul(received: Input) -> Input:
    """PostgreSQL cannot store NUL characters, and no person means to send one."""

    def clean(value: str | None) -> str | None:
        return value.replace("\x00", "") if value is not None else None

    return Input(
        text=clean(received.text),
        choice=clean(received.choice),
        choices=tuple(v.replace("\x00", "") for v in received.choices)
        if received.choices is not None
        else None,
        command=received.command,
        payload=clean(received.payload),
    )


def _referral_code(received: Input) -> str | None:
    if received.command == "start" and received.payload:
        return received.payload if REFERRAL_CODE.match(received.payload) else "unknown"
    return None


def _describe(flow: Flow, state: ConversationState, received: Input) -> str:
    """What the person sent, as a counsellor would read it in the transcript."""
    if received.command:
        return f"/{received.command}" + (f" {received.payload}" if received.payload else "")
    step = flow.steps.get(state.step or "")
    labels = {c.value: render_label(c.label, state.language) for c in step.choices} if step else {}
    if received.choice is not None:
        return labels.get(received.choice, received.choice)
    if received.choices is not None:
        return ", ".join(labels.get(v, v) for v in received.choices) or "—"
    return received.text or ""


def render_label(message_id: str, language: Language) -> str:
    """A choice label's text."""
    return render(Say(message_id), language)
