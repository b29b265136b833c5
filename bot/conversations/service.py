"""Running conversations: load the state, apply the engine, persist every step."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.appointments.bookings import BookingRecord
from bot.appointments.service import Appointments
from bot.appointments.telling import CHANGE
from bot.channels.writers import Writers
from bot.clock import new_id, utcnow
from bot.conversations import repository
from bot.conversations.commands import typed_command
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.my_data import kept_bookings, lead_messages, request_status
from bot.conversations.repository import ConversationRow, Found, StepValues
from bot.funnel import state_stage
from bot.keyed_locks import KeyedLocks
from bot.leads.handoff import LeadHandoff
from bot.leads.payload import LeadRecord
from bot.leads.store import lead_of_conversation
from bot.partners.codes import is_referral_code
from bot.partners.referrers import UNKNOWN_REFERRER, get_referrer
from bot.storage.database import Database, DuplicateKey, Transaction
from bot.storage.values import without_nul
from flows import engine
from flows.events import Event
from flows.flow import Flow
from flows.i18n import Language, parse_language, text
from flows.messages import Input, Say
from flows.offers import OffersNeeded, SessionOffer
from flows.render import RenderedLink, RenderedMessage, render, render_turn
from flows.rules import Orientation
from flows.state import ConversationState

logger = logging.getLogger(__name__)
DEFAULT_FLOW = "prescreening"
DEFAULT_PRIVACY_URL = "/confidentialite"


@dataclass
class Reply:
    """What a channel shows after one input."""

    conversation_id: str | None
    language: Language
    messages: list[RenderedMessage]
    done: bool
    orientation: Orientation | None
    events: list[Event] = field(default_factory=list)
    state: ConversationState | None = None
    # The kind of question the input answered (a channel may tidy up after it).
    answered_kind: str | None = None
    # A session booked in this step, and its calendar file: a messenger sends it as a
    # document; the web chat's reply links to it.
    booking: BookingRecord | None = None
    calendar: bytes | None = None


@dataclass(frozen=True)
class Timing:
    """When an unfinished conversation gets its one reminder, and when it is closed."""

    reminder_after: timedelta = timedelta(hours=24)
    close_after: timedelta = timedelta(days=7)


class ConversationService:
    """One entry point for every channel: web chat, console, Telegram."""

    def __init__(
        self,
        database: Database,
        registry: FlowRegistry,
        *,
        context: Mapping[str, Any] | None = None,
        flow_id: str = DEFAULT_FLOW,
        timing: Timing | None = None,
        writers: Writers | None = None,
        handoff: LeadHandoff | None = None,
        appointments: Appointments | None = None,
    ) -> None:
        self.database = database
        # Leads are recorded by every channel; the hand-off only configures their notices.
        self.handoff = handoff or LeadHandoff()
        self.registry = registry
        self.context = {"privacy_url": DEFAULT_PRIVACY_URL, **(context or {})}
        self.flow_id = flow_id
        self.timing = timing or Timing()
        # Only channels that can write first get reminders (a web page cannot be nudged).
        # How to write first to a person (reminders, counsellors), on the channels that can.
        self.writers = writers or Writers()
        self.reminder_channels = self.writers.channels
        # Sessions a person can book in the conversation, and their bookings.
        self.appointments = appointments or Appointments(
            database, handoff=self.handoff, writers=self.writers
        )
        # Inputs of one person are applied one at a time, in order of arrival.
        self._locks: KeyedLocks[tuple[str, str]] = KeyedLocks()

    async def prepare(self) -> None:
        """Record the current flow definitions (call once at start-up)."""
        async with self.database.transaction() as tx:
            await self.registry.record_current(tx)

    async def handle(
        self,
        *,
        channel: str,
        external_id: str,
        received: Input,
        language: str | None = None,
        source: str | None = None,
    ) -> Reply:
        """Apply one input in its own transaction, starting a conversation if there is none.

        ``source``: where the input came from (the web client's address), for lead limits.
        """
        async with self._locks[channel, external_id]:
            for attempt in range(2):
                try:
                    async with self.database.transaction() as tx:
                        return await self.handle_in(
                            tx,
                            channel=channel,
                            external_id=external_id,
                            received=received,
                            language=language,
                            source=source,
                        )
                except DuplicateKey:
                    # Another worker created the same conversation at the same moment.
                    if attempt:
                        raise
            raise AssertionError("unreachable")

    async def handle_in(
        self,
        tx: Transaction,
        *,
        channel: str,
        external_id: str,
        received: Input,
        language: str | None = None,
        found: Found | None = None,
        source: str | None = None,
    ) -> Reply:
        """Apply one input inside the caller's transaction (so it can add its own writes)."""
        received = typed_command(_without_nul(received))
        row = (
            found.row
            if found is not None
            else await repository.find(tx, channel=channel, external_id=external_id, lock=True)
        )
        current = self.registry.current[self.flow_id]
        if row is None:
            turn, _ = await self._run(
                tx,
                channel,
                lambda context: engine.start(
                    current, language=parse_language(language), context=context
                ),
            )
            if received.command == "my_data":
                turn.messages.insert(0, Say("data.nothing"))
            if received.command == "appointment":
                turn.messages.insert(0, Say("booking.unknown"))
            row = ConversationRow(
                id=new_id(),
                channel=channel,
                external_id=external_id,
                flow_id=current.id,
                flow_version=current.pinned_version,
                referrer_code=await _referral_code(tx, received),
                state="{}",
                created_at=utcnow(),
                reminded_at=None,
            )
            return await self._save(tx, row, turn, current, new=True, source=source)
        state = ConversationState.model_validate_json(row.state)
        flow = await self.registry.pinned(tx, row.flow_id, row.flow_version)
        if row.held_by is not None and not _reaches_the_script(received, state):
            # The counsellor answers, on the lead page: the message waits there.
            now = utcnow()
            incoming = [("in", _describe(flow, state, received))]
            await repository.record_transcript(tx, row.id, incoming, now=now)
            await repository.touch(tx, row.id, now)
            logger.info("held conversation input", extra={"conversation": row.id})
            return Reply(row.id, state.language, [], state.done, None, [Event.HELD], state)
        returning = received.command == "start" and state.done
        lead = await lead_of_conversation(tx, row.id) if returning else None
        offers: list[SessionOffer] = []
        if received.command == "appointment":
            turn = await self._appointment_answer(tx, row, flow, state, received.payload)
        elif lead is not None:
            # Someone whose request was sent hears where it stands, not the welcome again.
            turn = await self._handle(tx, row.channel, flow, state, Input(command="peek"))
            turn.messages.insert(0, request_status(lead))
            turn.events.append(Event.RETURNED)
        elif received.command == "restart" or returning:
            # A fresh start runs on the newest flow, keeping the person's language.
            turn, _ = await self._run(
                tx,
                row.channel,
                lambda context: engine.start(current, language=state.language, context=context),
            )
            turn.events.append(Event.RESTARTED)
        else:
            turn, offers = await self._run(
                tx,
                row.channel,
                lambda context: engine.handle(flow, state, received, context=context),
            )
        asked = flow.steps.get(state.step or "")
        chosen = None
        if Event.SESSION_CHOSEN in turn.events and asked is not None:
            picked = turn.state.answers.get(asked.field or "")
            chosen = next((o for o in offers if o.id == picked), None)
            if chosen is None or not await self.appointments.take_seat(tx, chosen.id):
                # Taken by someone else meanwhile: the dates still open are offered again.
                chosen = None
                turn = await self._handle(
                    tx, row.channel, flow, state, Input(command="session_full")
                )
        if Event.ERASE_CONFIRMED in turn.events:
            return await self._erase(tx, row, turn)
        if row.referrer_code is None:
            row.referrer_code = await _referral_code(tx, received)
        reply = await self._save(
            tx,
            row,
            turn,
            flow,
            incoming=_describe(flow, state, received),
            source=source,
            chosen=chosen,
        )
        reply.answered_kind = asked.input if asked else None
        return reply

    async def _run(
        self, tx: Transaction, channel: str, step: Callable[[dict[str, Any]], engine.Turn]
    ) -> tuple[engine.Turn, list[SessionOffer]]:
        """Run the engine; when a step needs the sessions open to the person, find them and
        run it again with them (the engine works on a copy: nothing happens twice)."""
        context = {**self.context, "channel": channel}
        try:
            return step(context), []
        except OffersNeeded as need:
            offers = await self.appointments.offers_for(tx, need)
            return step({**context, "sessions": offers}), offers

    async def _handle(
        self,
        tx: Transaction,
        channel: str,
        flow: Flow,
        state: ConversationState,
        received: Input,
    ) -> engine.Turn:
        turn, _ = await self._run(
            tx, channel, lambda context: engine.handle(flow, state, received, context=context)
        )
        return turn

    async def _appointment_answer(
        self,
        tx: Transaction,
        row: ConversationRow,
        flow: Flow,
        state: ConversationState,
        payload: str | None,
    ) -> engine.Turn:
        """A press on a reminder's button: "J'y serai", "Je ne peux plus venir" (the seat
        is given back, other dates offered) or "Changer de date" (other dates offered; the
        booking is replaced once one is picked)."""
        action, _, booking_id = (payload or "").partition(":")
        lead = await lead_of_conversation(tx, row.id)
        answer: str | None
        if action == CHANGE:
            rebook = await self.appointments.owns(tx, lead=lead, booking_id=booking_id)
            answer = None if rebook else "booking.unknown"
        else:
            answer = await self.appointments.person_answers(
                tx, lead=lead, booking_id=booking_id, action=action
            )
            rebook = answer == "booking.cancelled_by_person"
        command = "rebook" if rebook else "peek"
        turn = await self._handle(tx, row.channel, flow, state, Input(command=command))
        if answer is not None:
            turn.messages.insert(0, Say(answer))
        return turn

    async def peek(
        self, tx: Transaction, *, channel: str, external_id: str
    ) -> tuple[ConversationState, list[RenderedMessage]] | None:
        """The current question of a conversation, without changing or recording anything."""
        row = await repository.find(tx, channel=channel, external_id=external_id)
        if row is None:
            return None
        state = ConversationState.model_validate_json(row.state)
        flow = await self.registry.pinned(tx, row.flow_id, row.flow_version)
        turn = await self._handle(tx, channel, flow, state, Input(command="peek"))
        return state, render_turn(turn.messages, turn.question, state.language)

    async def _erase(self, tx: Transaction, row: ConversationRow, turn: engine.Turn) -> Reply:
        # The lead is erased too, and endpoints that had it are told (lead.deleted).
        await self.handoff.erase(tx, row.id, now=utcnow())
        # Transcript and reminders go with the conversation (ON DELETE CASCADE).
        await repository.delete(tx, row.id)
        logger.info("conversation erased", extra={"conversation": row.id})
        state = turn.state
        messages = render_turn(turn.messages, turn.question, state.language)
        return Reply(None, state.language, messages, True, None, turn.events, state)

    async def _save(
        self,
        tx: Transaction,
        row: ConversationRow,
        turn: engine.Turn,
        flow: Flow,
        *,
        incoming: str | None = None,
        new: bool = False,
        source: str | None = None,
        chosen: SessionOffer | None = None,
    ) -> Reply:
        state = turn.state
        if Event.DATA_REQUESTED in turn.events:
            messages = await self._my_data(tx, row, turn, flow)
        else:
            messages = render_turn(turn.messages, turn.question, state.language)
        now = utcnow()
        remind_at, close_at = self._reminders(row, state, now)
        values = StepValues(
            flow_version=state.flow_version,
            language=state.language,
            referrer_code=row.referrer_code,
            status="done" if state.done else "active",
            state=state.model_dump_json(),
            remind_at=remind_at,
            close_at=close_at,
            # Counted with the current flow's stages, as the funnel page counts them.
            state_stage=state_stage(self.registry.current[self.flow_id], state),
        )
        if new:
            await repository.insert(tx, row, values, now)
        else:
            await repository.save_step(tx, row, values, now)
        entries = [("in", incoming)] if incoming is not None else []
        entries += [("out", m.text) for m in messages]
        await repository.record_transcript(tx, row.id, entries, now=now)
        lead = await self.handoff.after_step(
            tx,
            conversation_id=row.id,
            channel=row.channel,
            referrer_code=row.referrer_code,
            state=state,
            events=turn.events,
            now=now,
            source=source,
        )
        booking, calendar = None, None
        if chosen is not None:
            booking = await self._book(tx, row, state, chosen, lead)
        if booking is not None:
            calendar, url = await self.appointments.calendar(tx, booking) or (None, None)
            if url is not None and row.channel not in self.writers.channels:
                label = text("booking.calendar", state.language)
                messages.append(
                    RenderedMessage(text=label, link=RenderedLink(url=url, label=label))
                )
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
            booking=booking,
            calendar=calendar,
        )

    async def _book(
        self,
        tx: Transaction,
        row: ConversationRow,
        state: ConversationState,
        chosen: SessionOffer,
        lead: LeadRecord | None,
    ) -> BookingRecord | None:
        """The seat is taken and the lead recorded in this step: the booking. SMS reminders
        only for the web chat, which cannot be written to, and with the person's agreement."""
        if lead is None:
            # A flow that books without ending on a lead: the seat goes back.
            await self.appointments.give_back(tx, chosen.id)
            return None
        phone = state.answers.get("phone")
        agreed = row.channel == "web" and state.answers.get("sms_reminders") == "yes"
        return await self.appointments.record_booking(
            tx,
            lead=lead,
            offer=chosen,
            channel=row.channel,
            external_id=row.external_id,
            sms_phone=phone if agreed and isinstance(phone, str) else None,
        )

    def _reminders(
        self, row: ConversationRow, state: ConversationState, now: datetime
    ) -> tuple[datetime | None, datetime | None]:
        """Any answer cancels what was due; an unfinished conversation gets new due dates."""
        if state.done or row.channel not in self.reminder_channels:
            return None, None
        remind_at = now + self.timing.reminder_after if row.reminded_at is None else None
        return remind_at, now + self.timing.close_after

    async def _my_data(
        self, tx: Transaction, row: ConversationRow, turn: engine.Turn, flow: Flow
    ) -> list[RenderedMessage]:
        """/mes_donnees: the answers, what the lead keeps, and where the request stands."""
        state = turn.state
        lead = await lead_of_conversation(tx, row.id)
        shown = list(turn.messages)
        if lead is not None:
            if not state.answers:
                # "Nothing kept" would be untrue: the lead keeps the answers it was sent with.
                shown = [
                    m for m in shown if not (isinstance(m, Say) and m.message_id == "data.nothing")
                ]
            shown += lead_messages(flow, state, lead)
            shown += await kept_bookings(tx, lead.id, state.language)
        messages = render_turn(shown, turn.question, state.language)
        meta = self._meta(row, state.language, lead)
        messages.insert(-1 if turn.question else len(messages), meta)
        return messages

    @staticmethod
    def _meta(row: ConversationRow, language: Language, lead: LeadRecord | None) -> RenderedMessage:
        referrer = (
            text("data.referrer", language, code=row.referrer_code) if row.referrer_code else ""
        )
        started = row.created_at.strftime("%d/%m/%Y")
        channel = text(f"channel.{row.channel}", language)
        body = text("data.meta", language, started=started, channel=channel, referrer=referrer)
        if lead is not None:
            status = text(f"lead.status.{lead.status}", language)
            date = lead.created_at.strftime("%d/%m/%Y")
            body = text("data.lead", language, date=date, status=status) + "\n" + body
        return RenderedMessage(text=body)


def _reaches_the_script(received: Input, state: ConversationState) -> bool:
    """While a counsellor holds the conversation, only the data rights reach the script."""
    return state.erase_pending or received.command in ("erase", "my_data")


def _without_nul(received: Input) -> Input:
    """The input without NUL characters, before the engine keeps any of it in the state.

    The driver layer stores text without them (bot/storage/values.py says why), but the
    state is stored as JSON, where a NUL is escaped and would reach PostgreSQL, which refuses it.
    """

    def clean(value: str | None) -> str | None:
        return without_nul(value) if value is not None else None

    return Input(
        text=clean(received.text),
        choice=clean(received.choice),
        choices=tuple(map(without_nul, received.choices)) if received.choices is not None else None,
        command=received.command,
        payload=clean(received.payload),
    )


async def _referral_code(tx: Transaction, received: Input) -> str | None:
    """The partner a start came through; any code not registered is the one ``unknown``.

    Anyone can put any code in a link: invented codes must not each become a row of the
    partners' page, nor reach a partner's endpoint.
    """
    if received.command != "start" or not received.payload:
        return None
    code = received.payload
    if is_referral_code(code) and await get_referrer(tx, code) is not None:
        return code
    return UNKNOWN_REFERRER


def _describe(flow: Flow, state: ConversationState, received: Input) -> str:
    """What the person sent, as a counsellor would read it in the transcript."""
    if received.command:
        return f"/{received.command}" + (f" {received.payload}" if received.payload else "")
    step = flow.steps.get(state.step or "")

    def label(value: str) -> str:
        # Only the chosen labels are rendered: this runs at every step.
        for choice in step.choices if step else ():
            if choice.value == value:
                return render(Say(choice.label), state.language)
        return value

    if received.choice is not None:
        return label(received.choice)
    if received.choices is not None:
        return ", ".join(label(v) for v in received.choices) or "—"
    return received.text or ""
