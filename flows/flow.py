"""Flow definitions: the shape of a flow file, as PôleS staff write it in YAML."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

InputKind = Literal["choice", "multi", "text", "number", "postal_code", "phone", "email", "none"]
StepId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
# Facts the engine computes from the orientation, usable in conditions like answers.
COMPUTED_FACTS = (
    "sites_count",
    "best_fit",
    "human_requested",
    "sessions_count",
    "channel",
    # The priority districts (QPV) of the person's commune: None without data for its
    # department (the life situations ask about it then), 0 when it has none.
    "qpv_count",
)
# Sources of choices built at run time rather than listed in the file.
DYNAMIC_CHOICES = ("sites", "editable_fields", "sessions", "communes", "qpvs")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """A test on an answer or computed fact; ``all``/``any``/``not`` combine tests."""

    field: str | None = None
    eq: Any = None
    ne: Any = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    is_null: bool | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def fields(self) -> set[str]:
        """Every field name the condition reads."""
        names = {self.field} if self.field else set()
        for child in (self.all or []) + (self.any or []) + ([self.not_] if self.not_ else []):
            names |= child.fields()
        return names


class Transition(_Strict):
    """Go to ``goto`` when ``when`` holds (or always, without ``when``)."""

    when: Condition | None = None
    goto: StepId


class Choice(_Strict):
    """One button: the value stored, the label's message id, and where it leads."""

    value: str
    label: str
    next: StepId | None = None
    # Answers implied by this choice (e.g. "nothing for now" means not registered anywhere).
    sets: dict[str, Any] = Field(default_factory=dict)
    # Other words a person may type for it, in any language ("bac", "BTS"), besides the label.
    words: list[str] = Field(default_factory=list)


class Step(_Strict):
    """One turn of the conversation: what is said, what is asked, where it goes next."""

    say: list[str] = Field(default_factory=list)
    ask: str | None = None
    input: InputKind = "none"
    field: str | None = None
    choices: list[Choice] = Field(default_factory=list)
    # sessions: the next sessions open to the person (flows/offers.py), and "none of them".
    # communes: those of the postal code (flows/places.py), when it covers several.
    # qpvs: the priority districts of the person's commune by name, "no" and "unknown".
    choices_from: Literal["sites", "editable_fields", "sessions", "communes", "qpvs"] | None = None
    min: int | None = None
    max: int | None = None
    max_length: int | None = Field(default=None, ge=1, le=4000)
    invalid: str | None = None
    # The label of answering none of a multi question's choices (default: multi.none).
    none_label: str | None = None
    optional: bool = False
    skip_if: Condition | None = None
    show: Literal["orientation", "summary", "booking"] | None = None
    action: Literal["confirm", "edit", "human", "forget_answers", "retry"] | None = None
    next: StepId | list[Transition] | None = None
    end: bool = False
    outcome: str | None = None

    def transitions(self) -> list[Transition]:
        """The step's own ``next`` as a list of transitions."""
        if self.next is None:
            return []
        if isinstance(self.next, str):
            return [Transition(goto=self.next)]
        return list(self.next)

    def targets(self) -> list[str]:
        """Every step this step can lead to."""
        return [t.goto for t in self.transitions()] + [c.next for c in self.choices if c.next]


class Flow(_Strict):
    """A whole conversation script."""

    id: StepId
    version: str
    start: StepId
    # Answers the flow keeps besides the profile fields (contact details, consent…).
    answers: dict[str, str] = Field(default_factory=dict)
    commands: dict[Literal["human", "stuck"], StepId] = Field(default_factory=dict)
    # Fields shown in the final summary, in order; each can be edited from there.
    summary_fields: list[str] = Field(default_factory=list)
    steps: dict[StepId, Step]
    # Set at load from the file's content so that any change makes a new version.
    fingerprint: str = ""

    @property
    def pinned_version(self) -> str:
        """The version a conversation records: the declared one plus a content hash."""
        return f"{self.version}+{self.fingerprint}" if self.fingerprint else self.version

    def step(self, step_id: str) -> Step:
        """A step by id (KeyError if unknown)."""
        return self.steps[step_id]

    def step_for_field(self, field: str) -> str | None:
        """The first step that asks for a field."""
        return next((sid for sid, s in self.steps.items() if s.field == field), None)
