"""Loading flow files: every broken reference in a flow is reported at once, with its step."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import ValidationError

from flows.catalogue import DATA_DIR
from flows.flow import COMPUTED_FACTS, Condition, Flow, Step
from flows.i18n import source_messages
from flows.inputs import typed_key
from flows.profile import CHOICE_VALUES, LIST_FIELDS, NUMBER_FIELDS, PROFILE_FIELDS

FLOWS_DIR = DATA_DIR / "flows"
INPUT_FOR_FIELD = {"postal_code": "postal_code", "age": "number", "child_age": "number"}


class FlowError(ValueError):
    """A flow file has problems; ``problems`` lists each one as ``file: step: reason``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _pydantic_problems(error: ValidationError, where: str) -> list[str]:
    return [
        f"{where}{'.'.join(str(p) for p in e['loc'])}: {e['msg']}".rstrip(": ")
        for e in error.errors()
    ]


def _parse(text: str, source: str) -> tuple[Flow | None, list[str]]:
    """Validate the file's shape step by step, so one broken step hides no other problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return None, [f"{source}: not valid YAML: {error}"]
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), dict):
        return None, [f"{source}: expected a mapping with id, version, start and steps"]
    problems: list[str] = []
    steps: dict[str, Step] = {}
    for step_id, body in raw["steps"].items():
        try:
            steps[str(step_id)] = Step.model_validate(body or {})
        except ValidationError as error:
            problems += _pydantic_problems(error, f"{source}: step '{step_id}': ")
    header = {k: v for k, v in raw.items() if k != "steps"}
    try:
        flow = Flow.model_validate({**header, "steps": {}}).model_copy(update={"steps": steps})
    except ValidationError as error:
        return None, problems + _pydantic_problems(error, f"{source}: ")
    broken = set(map(str, raw["steps"])) - set(steps)
    if broken:
        # Keep the broken steps' names known so references to them are not reported twice.
        placeholder = Step(end=True)
        flow = flow.model_copy(update={"steps": {**steps, **dict.fromkeys(broken, placeholder)}})
    return flow, problems


def _known_fields(flow: Flow) -> set[str]:
    return set(PROFILE_FIELDS) | set(flow.answers)


def _condition_problems(condition: Condition | None, flow: Flow) -> Iterable[str]:
    if condition is None:
        return
    for name in sorted(condition.fields() - _known_fields(flow) - set(COMPUTED_FACTS)):
        yield f"condition on unknown field '{name}'"


def _step_problems(step_id: str, step: Step, flow: Flow) -> Iterable[str]:
    messages = source_messages()
    labels = [*step.say, step.ask, step.invalid, step.none_label, *(c.label for c in step.choices)]
    for message_id in labels:
        if message_id is not None and message_id not in messages:
            yield f"message '{message_id}' has no French text in messages.yaml"
    if step.none_label is not None and step.input != "multi":
        yield "'none_label' names the empty answer of a 'multi' input only"
    yield from _word_problems(step)
    for target in step.targets():
        if target not in flow.steps:
            yield f"leads to unknown step '{target}'"
    yield from _condition_problems(step.skip_if, flow)
    for transition in step.transitions():
        yield from _condition_problems(transition.when, flow)
    if step.end and (step.next or step.choices or step.input != "none"):
        yield "an end step cannot ask anything or lead anywhere"
    # Steps with these actions lead back into the flow by themselves.
    leads_back = step.action in ("confirm", "edit", "retry")
    if not step.end and not leads_back:
        has_default = any(t.when is None for t in step.transitions())
        if step.input in ("choice", "multi") and step.choices and not has_default:
            for choice in step.choices:
                if choice.next is None:
                    yield f"dead end: choice '{choice.value}' leads nowhere"
        elif not has_default:
            yield "dead end: no unconditional 'next' and not an end step"
    if step.skip_if is not None and not any(t.when is None for t in step.transitions()):
        yield "a step with 'skip_if' needs an unconditional 'next' for when it is skipped"
    if step.input != "none" and step.ask is None:
        yield f"input '{step.input}' needs an 'ask' message"
    if step.input in ("choice", "multi") and not (step.choices or step.choices_from):
        yield f"input '{step.input}' needs choices"
    if step.choices_from == "sessions" and (step.input != "choice" or step.field is None):
        yield "choices from 'sessions' need input 'choice' and a field"
    if step.show == "booking" and not any(
        s.choices_from == "sessions" for s in flow.steps.values()
    ):
        yield "'show: booking' needs a step with choices from 'sessions'"
    yield from _field_problems(step, flow)


def _word_problems(step: Step) -> Iterable[str]:
    """A typed word must name one choice only, or typing it could not be understood."""
    owners: dict[str, str] = {}
    for choice in step.choices:
        for word in choice.words:
            key = typed_key(word)
            if not key:
                yield f"choice '{choice.value}': word '{word}' has no letter or digit"
            elif owners.setdefault(key, choice.value) != choice.value:
                yield f"word '{word}' names both '{owners[key]}' and '{choice.value}'"


def _field_problems(step: Step, flow: Flow) -> Iterable[str]:
    known = _known_fields(flow)
    if step.field is not None and step.field not in known:
        yield f"field '{step.field}' is neither a profile field nor declared in 'answers'"
    if step.field is not None and step.input == "none":
        yield f"field '{step.field}' is set by a step that asks nothing"
    expected_input = INPUT_FOR_FIELD.get(step.field or "")
    if expected_input and step.input != expected_input:
        yield f"field '{step.field}' needs input '{expected_input}', not '{step.input}'"
    if step.input == "multi" and step.field in PROFILE_FIELDS and step.field not in LIST_FIELDS:
        yield f"field '{step.field}' holds one value: use input 'choice'"
    allowed = CHOICE_VALUES.get(step.field or "")
    for choice in step.choices:
        if allowed is not None and choice.value not in allowed:
            yield (
                f"choice '{choice.value}' is not a value the rules know for '{step.field}'"
                f" (expected one of {', '.join(sorted(allowed))})"
            )
        for name, value in choice.sets.items():
            if name not in known:
                yield f"choice '{choice.value}' sets unknown field '{name}'"
            elif name in CHOICE_VALUES and value not in CHOICE_VALUES[name]:
                yield f"choice '{choice.value}' sets '{name}' to unknown value '{value}'"
    if step.field in NUMBER_FIELDS and step.min is None:
        yield f"field '{step.field}' needs 'min' and 'max'"


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    pending = [flow.start, *flow.commands.values()]
    while pending:
        step_id = pending.pop()
        if step_id in seen or step_id not in flow.steps:
            continue
        seen.add(step_id)
        pending.extend(flow.steps[step_id].targets())
    return seen


def graph_problems(flow: Flow, source: str) -> list[str]:
    """Every problem of a parsed flow's graph, messages and fields."""
    problems = []
    if flow.start not in flow.steps:
        problems.append(f"{source}: start step '{flow.start}' does not exist")
    for command, target in flow.commands.items():
        if target not in flow.steps:
            problems.append(f"{source}: command '{command}' leads to unknown step '{target}'")
    for name, message_id in flow.answers.items():
        if message_id not in source_messages():
            problems.append(f"{source}: answer '{name}': message '{message_id}' has no French text")
    for name in flow.summary_fields:
        if name not in _known_fields(flow):
            problems.append(f"{source}: summary field '{name}' is not a known field")
        elif flow.step_for_field(name) is None:
            problems.append(f"{source}: summary field '{name}' is asked by no step")
    reachable = _reachable(flow)
    for step_id, step in flow.steps.items():
        problems += [
            f"{source}: step '{step_id}': {p}" for p in _step_problems(step_id, step, flow)
        ]
        if step_id not in reachable:
            problems.append(f"{source}: step '{step_id}': unreachable from '{flow.start}'")
    return problems


def parse_flow(text: str, *, source: str = "flow") -> Flow:
    """A validated flow from YAML text; FlowError lists every problem found."""
    flow, problems = _parse(text, source)
    if flow is not None:
        problems += graph_problems(flow, source)
    if problems or flow is None:
        raise FlowError(problems)
    fingerprint = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return flow.model_copy(update={"fingerprint": fingerprint})


def load_flow_file(path: Path) -> Flow:
    """Read and validate one flow file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FlowError([f"{path}: cannot read: {error.strerror}"]) from error
    return parse_flow(text, source=path.name)


def flow_files(directory: Path = FLOWS_DIR) -> list[Path]:
    """The flow files shipped in a directory."""
    return sorted(directory.glob("*.yaml"))


def load_flows(directory: Path = FLOWS_DIR) -> dict[str, Flow]:
    """Every flow of a directory by id; FlowError lists the problems of all files."""
    flows: dict[str, Flow] = {}
    problems: list[str] = []
    for path in flow_files(directory):
        try:
            flow = load_flow_file(path)
        except FlowError as error:
            problems += error.problems
            continue
        if flow.id in flows:
            problems.append(f"{path.name}: flow id '{flow.id}' is used by another file")
        flows[flow.id] = flow
    if problems:
        raise FlowError(problems)
    return flows
