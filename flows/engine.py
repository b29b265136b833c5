"""The conversation engine: (flow, state, input) → (new state, outputs), with no I/O."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flows import inputs
from flows.catalogue import Catalogue, default_catalogue
from flows.conditions import holds
from flows.events import Event
from flows.flow import COMPUTED_FACTS, Flow, Step
from flows.i18n import LANGUAGES, Language, parse_language
from flows.messages import Input, Literal, Option, Question, Say, Text
from flows.offers import NONE_OF_THEM, OffersNeeded, SessionOffer, spoken_datetime
from flows.places import Commune, default_places
from flows.presentation import (
    all_answers_message,
    booking_messages,
    orientation_messages,
    readable_phone,
    summary_messages,
)
from flows.profile import LIST_FIELDS, PROFILE_FIELDS
from flows.render import render
from flows.rules import FIT_RANK, Orientation, orient
from flows.state import ConversationState

REPEAT_REASONS = ("unsupported", "edited", "forwarded", "old_button", "not_own_contact", "voice")
STUCK_AFTER = 3  # bad answers in a row before offering a counsellor
# More districts than a phone shows at once: the question is asked without their names.
MAX_NAMED_DISTRICTS = 12
# The answers of a priority-district question besides a district's code.
QPV_NO, QPV_UNKNOWN = "no", "unknown"
MAX_STEPS_PER_TURN = 200  # a guard against a cycle of message-only steps


# Choices that depend on the postal code: a new one may make the chosen one wrong.
PLACE_CHOICES = ("sites", "communes", "qpvs")


class UnknownPostalCode(inputs.InvalidInput):
    """Five digits that are no French postal code: the re-ask names them."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown postal code {code}")
        self.code = code


class EngineError(RuntimeError):
    """The flow led somewhere it cannot go on from (flow checks should prevent it)."""


@dataclass
class Turn:
    """The result of one input: the new state, what to say, what is asked, what happened."""

    state: ConversationState
    messages: list[Text] = field(default_factory=list)
    question: Question | None = None
    events: list[Event] = field(default_factory=list)


def start(
    flow: Flow,
    *,
    language: Language = "fr",
    context: Mapping[str, Any] | None = None,
    catalogue: Catalogue | None = None,
) -> Turn:
    """A new conversation on a flow, at its first question."""
    state = ConversationState(flow_id=flow.id, flow_version=flow.pinned_version, language=language)
    run = _Run(flow, state, context, catalogue)
    run.events.append(Event.STARTED)
    run.enter(flow.start)
    return run.turn()


def handle(
    flow: Flow,
    state: ConversationState,
    received: Input,
    *,
    context: Mapping[str, Any] | None = None,
    catalogue: Catalogue | None = None,
) -> Turn:
    """Apply one input to a conversation; the given state is left untouched."""
    run = _Run(flow, state.model_copy(deep=True), context, catalogue)
    if run.state.erase_pending and received.command not in ("erase", "my_data"):
        run.confirm_erase(received)
    elif received.command:
        run.command(received.command, received.payload)
    elif run.state.done:
        run.after_end(received)
    elif run.state.step is None:
        run.enter(flow.start)
    else:
        run.answer(received)
    return run.turn()


def current_orientation(
    state: ConversationState, catalogue: Catalogue | None = None
) -> Orientation | None:
    """The rules' result for a conversation once it has been shown to the person."""
    if not state.orientation_shown:
        return None
    return orient(
        state.profile(),
        language=state.language,
        catalogue=catalogue,
        unknown=state.unknown_criteria(),
    )


class _Facts(Mapping[str, Any]):
    """What conditions read: the answers, and facts computed only when a condition asks."""

    def __init__(self, run: _Run) -> None:
        self.run = run

    def __getitem__(self, name: str) -> Any:
        state = self.run.state
        if name == "sites_count":
            return len(self.run.catalogue.sites_for(state.profile().postal_code))
        if name == "best_fit":
            programmes = self.run.orientation().programmes
            return min((p.fit for p in programmes), key=FIT_RANK.__getitem__)
        if name == "human_requested":
            return state.human_requested
        if name == "sessions_count":
            return len(self.run.offers())
        if name == "channel":
            return self.run.context.get("channel")
        if name == "qpv_count":
            qpvs = self.run.qpvs()
            return None if qpvs is None else len(qpvs)
        return state.answers[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self.run.state.answers, *COMPUTED_FACTS])

    def __len__(self) -> int:
        return len(self.run.state.answers) + len(COMPUTED_FACTS)


class _Run:
    """One turn of the engine; mutates its own copy of the state."""

    def __init__(
        self,
        flow: Flow,
        state: ConversationState,
        context: Mapping[str, Any] | None,
        catalogue: Catalogue | None,
    ) -> None:
        self.flow = flow
        self.state = state
        self.context = dict(context or {})
        self.catalogue = catalogue or default_catalogue()
        self.places = default_places()
        self.messages: list[Text] = []
        self.question: Question | None = None
        self.events: list[Event] = []
        self._orientation: tuple[tuple[str, str], Orientation] | None = None

    def turn(self) -> Turn:
        return Turn(self.state, self.messages, self.question, self.events)

    # --- what the conditions see -------------------------------------------------------
    def facts(self) -> Mapping[str, Any]:
        return _Facts(self)

    def orientation(self) -> Orientation:
        """The rules' result for the answers so far, computed once per set of answers."""
        profile = self.state.profile()
        unknown = self.state.unknown_criteria()
        key = (profile.model_dump_json() + ",".join(unknown), self.state.language)
        if self._orientation is None or self._orientation[0] != key:
            result = orient(
                profile, language=self.state.language, catalogue=self.catalogue, unknown=unknown
            )
            self._orientation = (key, result)
        return self._orientation[1]

    def commune(self) -> Commune | None:
        """The person's commune: the one chosen for their postal code (flows/places.py)."""
        insee = self.state.answers.get("commune")
        return self.places.commune(insee) if isinstance(insee, str) else None

    def qpvs(self) -> tuple[tuple[str, str], ...] | None:
        """The priority districts of the person's commune (code, name); None without data."""
        commune = self.commune()
        found = self.places.qpvs_in(commune.insee) if commune else None
        if found is None or len(found) > MAX_NAMED_DISTRICTS:
            # Paris's 21 and Marseille's 41 are listed for the whole city, whatever the
            # arrondissement: too many to read, most of them elsewhere. Asked as before.
            return None
        return tuple((q.code, q.name) for q in found)

    def offers(self) -> list[SessionOffer]:
        """The sessions open to the person, which the caller gives (flows/offers.py)."""
        offers = self.context.get("sessions")
        if offers is None:
            site = next(
                (
                    self.state.answers.get(s.field)
                    for s in self.flow.steps.values()
                    if s.choices_from == "sites" and s.field
                ),
                None,
            )
            fitting = sorted(
                (p for p in self.orientation().programmes if p.fit != "no"),
                key=lambda p: FIT_RANK[p.fit],
            )
            raise OffersNeeded(site, tuple(p.id for p in fitting))
        return list(offers)

    def chosen_offer(self) -> SessionOffer | None:
        """The session picked at the flow's booking step, among those offered."""
        step_id = self._booking_step()
        chosen = self.state.answers.get(self.flow.step(step_id).field or "") if step_id else None
        return next((o for o in self.offers() if o.id == chosen), None) if chosen else None

    def next_of(self, step: Step) -> str | None:
        transitions = step.transitions()
        if not transitions:
            return None
        facts = self.facts()
        return next((t.goto for t in transitions if t.when is None or holds(t.when, facts)), None)

    def next_after_answer(self, step: Step) -> str | None:
        """Where an answered step led: the chosen button's own target, else the step's next."""
        answer = self.state.answers.get(step.field or "")
        chosen = next((c for c in step.choices if c.value == answer and c.next), None)
        return chosen.next if chosen else self.next_of(step)

    # --- saying and asking -------------------------------------------------------------
    def say(self, message_id: str, **params: Any) -> None:
        self.messages.append(Say(message_id, {**self.params(), **params}))

    def params(self) -> dict[str, Any]:
        first_name = self.state.answers.get("first_name")
        phone = self.state.answers.get("phone")
        commune = self.commune()
        department = (
            self.places.department_name(commune.department) if commune is not None else None
        )
        return {
            **self.context,
            "first_name": Literal(first_name or ""),
            "phone": Literal(readable_phone(phone) if isinstance(phone, str) else ""),
            "commune": Literal(commune.label if commune else ""),
            "department": Literal(
                f"{department} ({commune.department})" if commune and department else ""
            ),
        }

    def options(self, step: Step) -> list[Option]:
        if step.choices_from == "sites":
            postal_code = self.state.profile().postal_code
            return [
                Option(
                    site_id,
                    Say(
                        "site.option",
                        {
                            "site": Literal(self.catalogue.site(site_id).name),
                            "status": Say(f"site.status.{self.catalogue.site(site_id).status}"),
                        },
                    ),
                )
                for site_id in self.catalogue.sites_for(postal_code)
            ]
        if step.choices_from == "sessions":
            language = self.state.language
            return [
                *(
                    Option(
                        offer.id,
                        Say(
                            "booking.option",
                            {
                                "when": Literal(spoken_datetime(offer.starts_at, language)),
                                "site": Literal(offer.site_name),
                            },
                        ),
                    )
                    for offer in self.offers()
                ),
                Option(NONE_OF_THEM, Say("booking.none")),
            ]
        if step.choices_from == "communes":
            postal_code = self.state.profile().postal_code
            return [
                Option(commune.insee, Literal(commune.label))
                for commune in self.places.communes_for(postal_code or "")
            ]
        if step.choices_from == "qpvs":
            return [
                *(Option(code, Literal(name)) for code, name in self.qpvs() or ()),
                Option(QPV_NO, Say("qpv_district.no")),
                Option(QPV_UNKNOWN, Say("qpv_district.unknown")),
            ]
        if step.choices_from == "editable_fields":
            return [
                Option(name, Say(self.flow.answers.get(name, f"field.{name}")))
                for name in self.flow.summary_fields
                if name in self.state.answers
            ]
        return [Option(c.value, Say(c.label)) for c in step.choices]

    def ask(self, step_id: str) -> None:
        step = self.flow.step(step_id)
        assert step.ask is not None
        self.state.step = step_id
        self.question = Question(
            step=step_id,
            field=step.field,
            kind=step.input,
            text=Say(step.ask, self.params()),
            options=tuple(self.options(step)),
            none_label=self.none_label(step),
        )

    @staticmethod
    def none_label(step: Step) -> Say | None:
        """How a multi question names answering none of its choices ("Aucune")."""
        return Say(step.none_label or "multi.none") if step.input == "multi" else None

    # --- moving through the flow -------------------------------------------------------
    def enter(self, step_id: str | None) -> None:
        for _ in range(MAX_STEPS_PER_TURN):
            if step_id is None:
                raise EngineError(f"flow {self.flow.id} has a dead end")
            step = self.flow.step(step_id)
            if self.state.editing and self._skip_while_editing(step_id, step):
                step_id = self.next_after_answer(step)
                continue
            if step.skip_if is not None and holds(step.skip_if, self.facts()):
                step_id = self.next_of(step)
                continue
            if (
                step.choices_from in ("sites", "communes")
                and len(options := self.options(step)) <= 1
            ):
                # Nothing to choose: one is taken as it is, none leaves the field empty.
                if options and step.field:
                    self.state.answers[step.field] = options[0].value
                step_id = self.next_of(step)
                continue
            if step.choices_from == "sessions" and not self.offers():
                step_id = self.next_of(step)  # no date to offer: a counsellor calls
                continue
            for message_id in step.say:
                self.say(message_id)
            self._act_on_entry(step)
            if step.end:
                self.state.done, self.state.step, self.state.outcome = True, None, step.outcome
                self.events.append(Event.FINISHED)
                return
            if step.input == "none":
                step_id = self.next_of(step)
                continue
            self.ask(step_id)
            return
        raise EngineError(f"flow {self.flow.id} loops without asking anything")

    def _skip_while_editing(self, step_id: str, step: Step) -> bool:
        """After an edit, pass over the steps already answered until the summary."""
        if step.show == "summary":
            self.state.editing = False
            return False
        if step.show == "orientation":
            return False  # answers changed: show the new orientation
        if step.input == "none":
            return True
        if step_id in self.state.history:
            return True
        # A question the edit made relevant is asked; a step that asks nothing stops editing.
        self.state.editing = step.field is not None
        return False

    def _act_on_entry(self, step: Step) -> None:
        if step.action == "human" and not self.state.human_requested:
            self.state.human_requested = True
            self.events.append(Event.HUMAN_REQUESTED)
        if step.action == "forget_answers":
            # Under the age of digital consent: keep nothing the person told us.
            self.state.answers.clear()
            self.state.history.clear()
            self.state.orientation_shown = False
            self.events.append(Event.ANSWERS_FORGOTTEN)
        if step.show == "orientation":
            orientation = self.orientation()
            self.messages.extend(
                orientation_messages(
                    orientation, self.state.profile(), self.catalogue, self.params()
                )
            )
            if self._no_qpv_to_ask():
                self.say("orientation.no_qpv")
            self.state.orientation_shown = True
            self.events.append(Event.ORIENTATION_READY)
        if step.show == "summary":
            self.messages.extend(summary_messages(self.flow, self.state, self.catalogue))
        if step.show == "booking":
            offer = self.chosen_offer()
            if offer is not None:
                self.messages.extend(booking_messages(offer, self.state.language))

    # --- answers -----------------------------------------------------------------------
    def answer(self, received: Input) -> None:
        step_id = self.state.step
        assert step_id is not None
        step = self.flow.step(step_id)
        if self._date_gone(step, received):
            # Its last seat went meanwhile (or it was cancelled): not a wrong answer.
            self.say("booking.full")
            self.enter(step_id)
            return
        try:
            value = self._read(step, received)
        except UnknownPostalCode as unknown:
            self._invalid(
                step_id, step, Say("postal_code.unknown", {"code": Literal(unknown.code)})
            )
            return
        except inputs.InvalidInput:
            self._invalid(step_id, step)
            return
        self.state.retries = 0
        self.state.history.append(step_id)
        chosen = next((c for c in step.choices if c.value == value), None)
        self._store(step, value, chosen.sets if chosen else {})
        if step.action == "edit":
            target = self.flow.step_for_field(str(value))
            if target is None:
                raise EngineError(f"no step asks for {value}")
            self.state.editing = True
            self.ask(target)
            return
        if step.action == "retry" and (chosen is None or chosen.next is None):
            target, self.state.stuck_at = self.state.stuck_at or self.flow.start, None
            self.ask(target)
            return
        if step.action == "confirm" and value == "confirm":
            self.events.append(Event.CONFIRMED)
        if step.choices_from == "sessions" and value != NONE_OF_THEM:
            self.events.append(Event.SESSION_CHOSEN)
        self.enter(chosen.next if chosen and chosen.next else self.next_of(step))

    def _date_gone(self, step: Step, received: Input) -> bool:
        """A pressed date that is no longer offered."""
        if step.choices_from != "sessions" or received.choice in (None, NONE_OF_THEM):
            return False
        return all(offer.id != received.choice for offer in self.offers())

    def _read(self, step: Step, received: Input) -> Any:
        options = [(o.value, render(o.label, self.state.language)) for o in self.options(step)]
        values = [value for value, _ in options]
        words = {c.value: c.words for c in step.choices if c.words}
        if step.input == "choice":
            if received.choice is not None:
                if received.choice not in values:
                    raise inputs.InvalidInput("unknown choice")
                return received.choice
            return inputs.match_choice(self._typed(received), options, words)
        if step.input == "multi":
            if received.choices is not None:
                if not set(received.choices) <= set(values):
                    raise inputs.InvalidInput("unknown choice")
                return sorted(set(received.choices), key=values.index)
            if received.choice is not None:
                return self._read(step, Input(choices=(received.choice,)))
            none_label = self.none_label(step)
            return inputs.match_choices(
                self._typed(received),
                options,
                words,
                render(none_label, self.state.language) if none_label else None,
            )
        text = self._typed(received)
        if step.input == "number":
            return inputs.read_number(
                text, step.min or 0, step.max if step.max is not None else 120
            )
        if step.input == "postal_code":
            code = inputs.read_postal_code(text)
            if not self.places.postal_code_exists(code):
                raise UnknownPostalCode(code)
            return code
        if step.input == "phone":
            return inputs.read_phone(text)
        if step.input == "email":
            return inputs.read_email(text)
        return inputs.read_text(text, step.max_length or 100)

    @staticmethod
    def _typed(received: Input) -> str:
        if received.text is None or len(received.text) > inputs.MAX_TEXT_LENGTH:
            raise inputs.InvalidInput("no text")
        return received.text

    def _store(self, step: Step, value: Any, implied: Mapping[str, Any]) -> None:
        if step.field is not None:
            if step.input == "multi" and step.field in LIST_FIELDS:
                # Several steps may fill one list (criteria): replace only this step's part.
                own = {c.value for c in step.choices}
                kept = [v for v in self.state.answers.get(step.field, []) if v not in own]
                value = kept + list(value)
            self.state.answers[step.field] = value
        self.state.answers.update(implied)
        if step.choices_from == "qpvs":
            # A district named is the criterion; "no" and "unknown" are not (unknown is told
            # to the rules apart: state.unknown_criteria).
            criteria = [c for c in self.state.answers.get("criteria", []) if c != "qpv"]
            in_one = value not in (QPV_NO, QPV_UNKNOWN)
            self.state.answers["criteria"] = [*criteria, "qpv"] if in_one else criteria
        self._drop_stale_places()
        if step.field in PROFILE_FIELDS and self.state.orientation_shown:
            self.events.append(Event.PROFILE_CHANGED)

    def _drop_stale_places(self) -> None:
        """A new postal code may make a chosen commune, site or district wrong: ask again."""
        for step in self.flow.steps.values():
            if step.choices_from not in PLACE_CHOICES or step.field not in self.state.answers:
                continue
            if self.state.answers[step.field] not in {o.value for o in self.options(step)}:
                del self.state.answers[step.field]

    def _no_qpv_to_ask(self) -> bool:
        """The person's commune has no priority district (so none was asked about), and the
        criterion could matter to them: the orientation says why it does not apply."""
        answers = self.state.answers
        could_matter = answers.get("asker") != "parent" and answers.get("situation") not in (
            "school",
            "training",
            "employed",
        )
        return could_matter and self.qpvs() == ()

    def _invalid(self, step_id: str, step: Step, message: Say | None = None) -> None:
        self.state.retries += 1
        stuck = self.flow.commands.get("stuck")
        if self.state.retries >= STUCK_AFTER and stuck is not None:
            self.state.retries, self.state.stuck_at = 0, step_id
            self.events.append(Event.STUCK)
            self.enter(stuck)
            return
        if message is not None:
            self.messages.append(message)
        else:
            self.say(step.invalid or f"invalid.{step.input}")
        self.ask(step_id)

    # --- commands ----------------------------------------------------------------------
    def command(self, name: str, payload: str | None) -> None:
        handlers = {
            "start": self._start,
            "restart": self._restart,
            "back": self._back,
            "human": self._human,
            "language": self._language,
            "edit": self._edit,
            "my_data": self._my_data,
            "erase": self._erase,
            "repeat": self._repeat,
            "peek": self._peek,
            "session_full": self._session_full,
            "rebook": self._rebook,
        }
        handler = handlers.get(name)
        if handler is None:
            self.say("command.unknown")
            self.reask()
            return
        handler(payload)

    def reask(self) -> None:
        if self.state.done or self.state.step is None:
            self.after_end(Input())
        else:
            self.ask(self.state.step)

    def _start(self, payload: str | None) -> None:
        if self.state.done or self.state.step is None:
            self._restart(payload)
            return
        self.say("command.welcome_back")
        self.reask()

    def _restart(self, payload: str | None) -> None:
        self.state = ConversationState(
            flow_id=self.flow.id,
            flow_version=self.flow.pinned_version,
            language=self.state.language,
        )
        self.events.append(Event.RESTARTED)
        self.enter(self.flow.start)

    def _back(self, payload: str | None) -> None:
        if self.state.done or not self.state.history:
            self.say("command.back_at_start" if not self.state.done else "command.back_after_end")
            self.reask()
            return
        self.state.editing, self.state.retries = False, 0
        self.ask(self.state.history.pop())

    def _human(self, payload: str | None) -> None:
        self.state.human_requested = True
        self.events.append(Event.HUMAN_REQUESTED)
        target = self.flow.commands.get("human")
        if target is None:
            self.say("command.human_unavailable")
            self.reask()
            return
        self.state.done, self.state.editing = False, False
        self.enter(target)

    def _language(self, payload: str | None) -> None:
        if payload in LANGUAGES:
            self.state.language = parse_language(payload)
            self.say("command.language_changed")
        else:
            self.say("command.language_unknown")
        self.reask()

    def _edit(self, payload: str | None) -> None:
        target = self.flow.step_for_field(payload or "")
        if self.state.done or payload not in self.flow.summary_fields or target is None:
            self.say("command.cannot_edit")
            self.reask()
            return
        self.state.editing = True
        self.ask(target)

    def _my_data(self, payload: str | None) -> None:
        self.events.append(Event.DATA_REQUESTED)
        if not self.state.answers:
            self.say("data.nothing")
        else:
            self.say("data.intro")
            self.messages.append(all_answers_message(self.flow, self.state, self.catalogue))
        self.reask()

    def _erase(self, payload: str | None) -> None:
        self.state.erase_pending = True
        self.question = Question(
            step="",
            field=None,
            kind="choice",
            text=Say("erase.ask"),
            options=(Option("erase_yes", Say("erase.yes")), Option("erase_no", Say("erase.no"))),
        )

    def confirm_erase(self, received: Input) -> None:
        """The answer to /supprimer: erase everything, or carry on where the person was."""
        self.state.erase_pending = False
        typed = inputs.fold(received.text or "")
        if received.choice == "erase_yes" or typed in ("oui", "yes", "oui tout effacer"):
            self.events.append(Event.ERASE_CONFIRMED)
            self.state = ConversationState(
                flow_id=self.flow.id,
                flow_version=self.flow.pinned_version,
                language=self.state.language,
                done=True,
                outcome="erased",
            )
            self.say("erase.done")
            return
        self.say("erase.cancelled")
        self.reask()

    def _booking_step(self) -> str | None:
        return next(
            (sid for sid, s in self.flow.steps.items() if s.choices_from == "sessions"), None
        )

    def _session_full(self, payload: str | None) -> None:
        # The seat went to someone else meanwhile: the dates still open are offered again.
        step_id = self._booking_step()
        if step_id is None or self.state.step != step_id:
            self.reask()
            return
        self.state.history = [s for s in self.state.history if s != step_id]
        self.say("booking.full")
        self.enter(step_id)

    def _rebook(self, payload: str | None) -> None:
        # "Another date" on a reminder: the dates open now, once the conversation has ended.
        step_id = self._booking_step()
        if step_id is None or not self.state.done:
            self.say("command.unknown")
            self.reask()
            return
        if not self.offers():
            self.say("booking.no_dates")
            self.reask()
            return
        self.state.done, self.state.outcome, self.state.editing = False, None, False
        self.events.append(Event.REBOOKING)
        self.ask(step_id)

    def _peek(self, payload: str | None) -> None:
        # A channel asking what the current question is (to redraw a keyboard): say nothing.
        self.reask()

    def _repeat(self, payload: str | None) -> None:
        # Something the bot cannot read (a sticker, an edit, an old button): no answer changes.
        self.say(f"repeat.{payload}" if payload in REPEAT_REASONS else "repeat.unsupported")
        self.reask()

    def after_end(self, received: Input) -> None:
        if received.choice == "restart" or (
            received.text is not None and inputs.fold(received.text) in ("recommencer", "restart")
        ):
            self._restart(None)
            return
        self.question = Question(
            step="",
            field=None,
            kind="choice",
            text=Say("command.finished", self.params()),
            options=(Option("restart", Say("command.restart_label")),),
        )
