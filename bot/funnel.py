"""The conversion funnel: how far conversations go, from the first message to an enrolment.

Only counts come out of here: no answer, no contact detail, no conversation id.

Stages, in this order:

1. ``started``: every conversation.
2. ``consent``: the answer ``consent`` is ``yes`` (given at the start or when asking for a
   counsellor).
3. ``question``, one stage per question asked before the orientation: the flow's steps with an
   ``input`` and a ``field``, in the flow file's order, up to the step that shows the
   orientation; the consent step (field ``consent``) is stage 2 and steps without a field
   (the under-15 choice, "stuck") are detours, not stages. A conversation answered one when
   the step is in its history, or when the step's field is in its answers and no other step
   of the flow asks for that field (``back`` pops the history but keeps the answer; the
   ``criteria`` list, filled by two steps, is told by the history alone).
4. ``orientation``: ``orientation_shown``.
5. ``contact``: a phone number or an e-mail among the answers (the fields of the flow's
   ``phone`` and ``email`` steps).
6. ``lead``: a lead exists for the conversation.
7. ``contacted``: the lead's status is, or once was, ``contacted``, ``appointment`` or
   ``enrolled`` (its current status and every status of its history count).
8. ``booked``: the lead has, or had, a booking of a session (cancelled, attended and missed
   ones count: the person booked).
9. ``attended``: one of the lead's bookings is marked attended (a booking corrected from
   attended to missed no longer counts).
10. ``enrolled``: the lead's status is, or once was, ``enrolled``.

A booking sets the lead's status to ``appointment``, so a person who books counts as
contacted even if no counsellor called them yet; and someone enrolled without a booking (a
counsellor's appointment by phone) counts as booked and attended, by the rule below.

The one rule: a conversation's *furthest stage* is the last stage, in the order above, for
which it shows a sign; it counts in that stage and in every stage before it. So the funnel
never grows, and a stage's drop-off is the conversations that stopped right before it.
Besides the signs above:

- a conversation waiting at a question stage (or stuck on it) has passed every stage before
  it: a question its answers made the flow skip (France Travail for someone not registered,
  the child's age for someone asking for themselves) counts as passed;
- a conversation whose answers were forgotten because the person is under the age of digital
  consent (waiting at the ``forget_answers`` step, or ended by it) consented and answered the
  question that led there (the age).

Leads whose conversation is gone (erased, or past retention) cannot be placed: only leads of
the conversations counted are. The filters (referrer code, language, period of the
conversation's ``created_at``, days in Europe/Paris) choose the conversations, in SQL.

Counted by the database: each conversation row keeps its furthest stage (``funnel_stage``),
written with the state that decides it (``state_stage``, by the conversation service) and with
the lead's facts (``lead_stage``, bot/funnel_stages.py), so the page is one ``GROUP BY`` on an
index. ``funnel`` below stays the definition; the stored stages are its ``_furthest`` of each
conversation, computed again (bot/funnel_rebuild.py) when the flow's plan changes.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Text, func, select, type_coerce

from bot.appointments.bookings import ATTENDED
from bot.clock import PARIS
from bot.storage.database import Transaction
from bot.storage.models import AppointmentBooking, Conversation, Lead, LeadStatusChange
from bot.storage.row_by_row import row_by_row
from flows.flow import Flow
from flows.state import ConversationState

CONTACTED_STATUSES = frozenset({"contacted", "appointment", "enrolled"})
ENROLLED_STATUSES = frozenset({"enrolled"})
CONSENT_FIELD = "consent"
StageKind = Literal[
    "started",
    "consent",
    "question",
    "orientation",
    "contact",
    "lead",
    "contacted",
    "booked",
    "attended",
    "enrolled",
]


@dataclass(frozen=True)
class StageDefinition:
    """One stage of a flow's funnel: its kind, and the step of a question stage."""

    kind: StageKind
    step: str | None = None

    @property
    def key(self) -> str:
        return f"question:{self.step}" if self.step else self.kind


@dataclass(frozen=True)
class Stage:
    """A stage's figures: conversations that reached it, and the drop-off from the previous one.

    ``share`` and ``dropped_share`` are percentages (0 to 100); None when there is nothing to
    divide by, and the drop-off is None for the first stage.
    """

    kind: StageKind
    step: str | None
    count: int
    share: float | None
    dropped: int | None
    dropped_share: float | None

    @property
    def key(self) -> str:
        return f"question:{self.step}" if self.step else self.kind


@dataclass(frozen=True)
class ConversationFacts:
    """What the funnel reads of a stored conversation: its engine state."""

    id: str
    state: ConversationState | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ConversationFacts:
        """From a row with ``id`` and ``state`` (JSON text, or already parsed)."""
        return cls.read(str(row["id"]), row["state"])

    @classmethod
    def read(cls, conversation_id: str, raw: str | bytes | dict[str, Any]) -> ConversationFacts:
        """From a conversation's id and its stored state (JSON text, or already parsed)."""
        try:
            if isinstance(raw, str | bytes):
                state = ConversationState.model_validate_json(raw)
            else:
                state = ConversationState.model_validate(raw)
        except ValidationError:
            # A state no longer readable still is a conversation that started.
            state = None
        return cls(id=conversation_id, state=state)


@dataclass(frozen=True)
class LeadFacts:
    """A lead's conversation, every status it has had (current one included), and whether it
    has or had a booking, and attended one."""

    conversation_id: str
    statuses: frozenset[str] = field(default_factory=frozenset)
    booked: bool = False
    attended: bool = False


@dataclass(frozen=True)
class FunnelFilters:
    """Which conversations: all criteria optional, dates are days in Europe/Paris."""

    referrer: str | None = None
    language: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """What the chosen conversations meet (none: every conversation)."""
        found = []
        if self.referrer:
            found.append(Conversation.referrer_code == self.referrer)
        if self.language:
            found.append(Conversation.language == self.language)
        if self.date_from:
            start = datetime.combine(self.date_from, time.min, tzinfo=PARIS)
            found.append(Conversation.created_at >= start)
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=PARIS)
            found.append(Conversation.created_at < end)
        return found


@dataclass(frozen=True)
class _Plan:
    """What the rule needs of a flow, worked out once."""

    stages: tuple[StageDefinition, ...]
    index: dict[str, int]  # stage key → its position
    questions: dict[str, int]  # question step → its stage index
    question_fields: dict[str, str]  # question step → field, when that field is its own
    contact_fields: frozenset[str]
    forget_steps: frozenset[str]
    forget_outcomes: frozenset[str]
    forgotten_reached: int  # the stage a forgotten conversation reached


def stage_definitions(flow: Flow) -> list[StageDefinition]:
    """The stages of a flow's funnel, in order."""
    return list(plan_of(flow).stages)


# Plans of the flows in use, worked out once each: a step computes its stage with it.
_plans: dict[int, tuple[Flow, _Plan]] = {}


def plan_of(flow: Flow) -> _Plan:
    """The flow's plan, kept while the flow object lives (flows are loaded once)."""
    known = _plans.get(id(flow))
    if known is not None and known[0] is flow:
        return known[1]
    if len(_plans) > 16:
        # Flows reloaded many times (tests): forget the old ones rather than grow.
        _plans.clear()
    plan = _plan(flow)
    _plans[id(flow)] = (flow, plan)
    return plan


def fingerprint(flow: Flow) -> str:
    """What the stored stages depend on in the flow: the stages and the rule's inputs.

    Another flow file with the same stages and rules keeps the stored stages valid.
    """
    plan = plan_of(flow)
    inputs = {
        "stages": [s.key for s in plan.stages],
        "question_fields": sorted(plan.question_fields.items()),
        "contact_fields": sorted(plan.contact_fields),
        "forget_steps": sorted(plan.forget_steps),
        "forget_outcomes": sorted(plan.forget_outcomes),
        "forgotten_reached": plan.forgotten_reached,
    }
    encoded = json.dumps(inputs, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def state_stage(flow: Flow, state: ConversationState | None) -> str:
    """The key of the furthest stage a conversation's state alone reached (no lead)."""
    plan = plan_of(flow)
    return plan.stages[_furthest(plan, state, None)].key


def _question_steps(flow: Flow) -> list[str]:
    steps = []
    for step_id, step in flow.steps.items():
        if step.show == "orientation":
            break
        if step.input != "none" and step.field is not None and step.field != CONSENT_FIELD:
            steps.append(step_id)
    return steps


def _plan(flow: Flow) -> _Plan:
    questions = _question_steps(flow)
    stages = [StageDefinition("started"), StageDefinition("consent")]
    stages += [StageDefinition("question", step) for step in questions]
    stages += [StageDefinition(kind) for kind in ("orientation", "contact", "lead")]
    stages += [StageDefinition(kind) for kind in ("contacted", "booked", "attended", "enrolled")]
    index = {s.key: i for i, s in enumerate(stages)}
    askers = Counter(s.field for s in flow.steps.values() if s.input != "none" and s.field)
    own_fields = {}
    for step_id in questions:
        name = flow.steps[step_id].field
        if name is not None and askers[name] == 1:
            own_fields[step_id] = name
    forget_steps = {sid for sid, s in flow.steps.items() if s.action == "forget_answers"}
    forget_outcomes = {
        target.outcome
        for sid in forget_steps
        for target_id in flow.steps[sid].targets()
        if (target := flow.steps.get(target_id)) is not None and target.end and target.outcome
    }
    # The questions that lead to the forgetting step (the age) were answered.
    leading = [
        index[f"question:{sid}"]
        for sid in questions
        if forget_steps & set(flow.steps[sid].targets())
    ]
    return _Plan(
        stages=tuple(stages),
        index=index,
        questions={sid: index[f"question:{sid}"] for sid in questions},
        question_fields=own_fields,
        contact_fields=frozenset(
            s.field for s in flow.steps.values() if s.input in ("phone", "email") and s.field
        ),
        forget_steps=frozenset(forget_steps),
        forget_outcomes=frozenset(o for o in forget_outcomes if o),
        forgotten_reached=max(leading, default=index["consent"]),
    )


def _furthest(plan: _Plan, state: ConversationState | None, lead: LeadFacts | None) -> int:
    """The index of the furthest stage a conversation reached (0: it started)."""
    at = plan.index
    if lead is not None:
        if lead.statuses & ENROLLED_STATUSES:
            return at["enrolled"]
        if lead.attended:
            return at["attended"]
        if lead.booked:
            return at["booked"]
        if lead.statuses & CONTACTED_STATUSES:
            return at["contacted"]
        return at["lead"]
    if state is None:
        return at["started"]
    answers = state.answers
    if any(answers.get(name) for name in plan.contact_fields):
        return at["contact"]
    if state.orientation_shown:
        return at["orientation"]
    reached = at["consent"] if answers.get(CONSENT_FIELD) == "yes" else at["started"]
    history = set(state.history)
    for step_id, position in plan.questions.items():
        own = plan.question_fields.get(step_id)
        if step_id in history or (own is not None and own in answers):
            reached = max(reached, position)
    waiting = state.step if state.step in plan.questions else state.stuck_at
    if waiting is not None and waiting in plan.questions:
        reached = max(reached, plan.questions[waiting] - 1)
    forgotten = state.step in plan.forget_steps or (
        state.done and state.outcome in plan.forget_outcomes
    )
    if forgotten:
        reached = max(reached, plan.forgotten_reached)
    return reached


def funnel(
    flow: Flow, conversations: Iterable[ConversationFacts], leads: Iterable[LeadFacts]
) -> list[Stage]:
    """Each stage's count, share of the started conversations, and drop-off from the previous.

    Pure: the same rows always give the same figures. Leads of conversations not given are
    ignored.
    """
    plan = plan_of(flow)
    by_conversation = {lead.conversation_id: lead for lead in leads}
    furthest = Counter(_furthest(plan, c.state, by_conversation.get(c.id)) for c in conversations)
    return _stages(plan, furthest)


def funnel_of_counts(flow: Flow, furthest: Mapping[str | None, int]) -> list[Stage]:
    """The funnel from how many conversations stopped at each stage key (``funnel_stage``).

    A key the plan does not know (None: not computed yet, or a stage of another flow file
    while the stages are rebuilt) counts as started only.
    """
    plan = plan_of(flow)
    at: Counter[int] = Counter()
    for key, count in furthest.items():
        at[plan.index.get(key or "", 0)] += count
    return _stages(plan, at)


def _stages(plan: _Plan, furthest: Mapping[int, int]) -> list[Stage]:
    counts = []
    remaining = sum(furthest.values())
    for index in range(len(plan.stages)):
        counts.append(remaining)
        remaining -= furthest.get(index, 0)
    started = counts[0]
    stages = []
    for index, definition in enumerate(plan.stages):
        count = counts[index]
        previous = counts[index - 1] if index else None
        dropped = previous - count if previous is not None else None
        stages.append(
            Stage(
                kind=definition.kind,
                step=definition.step,
                count=count,
                share=_percent(count, started),
                dropped=dropped,
                dropped_share=_percent(dropped, previous) if dropped is not None else None,
            )
        )
    return stages


def _percent(part: int, whole: int | None) -> float | None:
    return 100.0 * part / whole if whole else None


# --- loading the rows -----------------------------------------------------------------------


async def load_facts(
    tx: Transaction, filters: FunnelFilters
) -> tuple[list[ConversationFacts], list[LeadFacts]]:
    """The filtered conversations, and the leads of those conversations with their statuses
    and bookings."""
    chosen = filters.conditions()
    # The state as its stored text: pydantic reads the JSON itself, and a state no longer
    # readable still counts as a conversation that started (ConversationFacts.read).
    state = type_coerce(Conversation.state, Text)
    rows = await tx.all(select(Conversation.id, state).where(*chosen))
    conversations = [ConversationFacts.read(conversation_id, raw) for conversation_id, raw in rows]
    lead_rows = await tx.all(
        select(Lead.id, Lead.conversation_id, Lead.status)
        .join(Conversation, Conversation.id == Lead.conversation_id)
        .where(*chosen)
    )
    change_rows = await tx.all(
        select(LeadStatusChange.lead_id, LeadStatusChange.previous, LeadStatusChange.status)
        .join(Lead, Lead.id == LeadStatusChange.lead_id)
        .join(Conversation, Conversation.id == Lead.conversation_id)
        .where(*chosen)
    )
    booking_rows = await tx.all(
        select(AppointmentBooking.lead_id, AppointmentBooking.status)
        .join(Lead, Lead.id == AppointmentBooking.lead_id)
        .join(Conversation, Conversation.id == Lead.conversation_id)
        .where(*chosen)
    )
    history: dict[str, set[str]] = {}
    for lead_id, previous, status in change_rows:
        seen = history.setdefault(lead_id, set())
        seen.update(s for s in (previous, status) if s)
    booked = {lead_id for lead_id, _ in booking_rows}
    attended = {lead_id for lead_id, status in booking_rows if status == ATTENDED}
    leads = [
        LeadFacts(
            conversation_id=conversation_id,
            statuses=frozenset({status, *history.get(lead_id, set())}),
            booked=lead_id in booked,
            attended=lead_id in attended,
        )
        for lead_id, conversation_id, status in lead_rows
        # Joined on it: never None.
        if conversation_id is not None
    ]
    return conversations, leads


async def load_funnel(tx: Transaction, flow: Flow, filters: FunnelFilters) -> list[Stage]:
    """The funnel of the conversations the filters choose, counted by the database.

    One ``GROUP BY funnel_stage``, read from a covering index (bot/storage/models.py): no
    state is loaded. The same figures as ``funnel(flow, *load_facts(tx, filters))`` once the
    stages are up to date (bot/funnel_rebuild.py).
    """
    # For a period, its index (created_at first) is the one to read: offered the stages' index,
    # which groups without sorting, SQLite took it and read every conversation (200 ms at 100k
    # for a "from" date alone) instead of the period's few.
    periodic = filters.date_from is not None or filters.date_to is not None
    stage = row_by_row(Conversation.funnel_stage) if periodic else Conversation.funnel_stage
    rows = await tx.all(
        select(Conversation.funnel_stage, func.count()).where(*filters.conditions()).group_by(stage)
    )
    return funnel_of_counts(flow, {stage: int(count) for stage, count in rows})


# The distinct codes by one index seek each (the referrer index's first column), not by
# reading every conversation: neither database skips through an index for DISTINCT.
_REFERRER_CODES = """
WITH RECURSIVE codes(code) AS (
    SELECT MIN(referrer_code) FROM conversations
    UNION ALL
    SELECT (SELECT MIN(referrer_code) FROM conversations WHERE referrer_code > codes.code)
    FROM codes WHERE codes.code IS NOT NULL
)
SELECT code FROM codes WHERE code IS NOT NULL
"""


async def referrer_codes(tx: Transaction) -> list[str]:
    """The referrer codes conversations came with, for the filter's list, in order."""
    rows = await tx.fetch_tuples(_REFERRER_CODES)
    return [str(code) for (code,) in rows]
