"""Drawing a flow as a Mermaid or Graphviz diagram: one node per step, one edge per way on."""

from __future__ import annotations

from typing import Any, NamedTuple

from flows.flow import Condition, Flow, Step

COMPARISONS = (("eq", "="), ("ne", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="))
# Virtual nodes; upper case so that they never clash with a step id (always lower case).
START, ANY_STEP = "START", "ANY_STEP"
# Words Mermaid reads as syntax when used as a node id.
MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "direction", "style", "class", "click"}
MERMAID_ESCAPES = {"#": "#35;", "&": "#38;", '"': "#quot;", "<": "#lt;", ">": "#gt;"}


class Edge(NamedTuple):
    source: str
    target: str
    label: str
    dashed: bool = False


def _value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def condition_text(condition: Condition) -> str:
    """A condition in a few words, e.g. ``age < 15`` or ``situation in school, training``."""
    parts: list[str] = []
    name = condition.field or ""
    for attribute, operator in COMPARISONS:
        if getattr(condition, attribute) is not None:
            parts.append(f"{name} {operator} {_value(getattr(condition, attribute))}")
    if condition.in_ is not None:
        parts.append(f"{name} in {_value(condition.in_)}")
    if condition.not_in is not None:
        parts.append(f"{name} not in {_value(condition.not_in)}")
    if condition.is_null is not None:
        parts.append(f"{name} is {'null' if condition.is_null else 'not null'}")
    if name and not parts:
        parts.append(name)
    for word, children in (("all", condition.all), ("any", condition.any)):
        if children is not None:
            parts.append(f"{word}({'; '.join(condition_text(c) for c in children)})")
    if condition.not_ is not None:
        parts.append(f"not({condition_text(condition.not_)})")
    return " and ".join(parts)


def step_lines(step_id: str, step: Step) -> list[str]:
    """The lines of a step's label: its id, what it asks, what it shows or does."""
    lines = [step_id]
    if step.input != "none":
        lines.append(f"({step.input} → {step.field})" if step.field else f"({step.input})")
    marks = {"show": step.show, "action": step.action, "outcome": step.outcome}
    return lines + [f"{key}: {value}" for key, value in marks.items() if value]


def edges(flow: Flow) -> list[Edge]:
    """Every edge of the diagram, in file order, global commands last."""
    result = [Edge(START, flow.start, "")]
    for step_id, step in flow.steps.items():
        chosen = [Edge(step_id, c.next, c.value) for c in step.choices if c.next]
        transitions = step.transitions()
        labelled = len(transitions) > 1 or bool(chosen)
        for transition in transitions:
            if transition.when is not None:
                label = condition_text(transition.when)
            else:
                label = "else" if labelled else ""
            result.append(Edge(step_id, transition.goto, label))
        result += chosen
    result += [Edge(ANY_STEP, flow.commands[c], c, dashed=True) for c in sorted(flow.commands)]
    return result


def _mermaid_id(node: str) -> str:
    return node.upper() if node in MERMAID_RESERVED else node


def _mermaid_text(lines: list[str]) -> str:
    escaped = ["".join(MERMAID_ESCAPES.get(ch, ch) for ch in line) for line in lines]
    return '"' + "<br/>".join(escaped) + '"'


def to_mermaid(flow: Flow) -> str:
    """The flow as a Mermaid ``flowchart TD``: stadiums end, hexagons show results."""
    # A line break in the version would end the comment and break the diagram.
    version = " ".join(flow.version.split())
    out = ["flowchart TD", f"    %% Flow '{flow.id}' version {version}, by `make flows-graph`."]
    out.append(f'    {START}(("start"))')
    for step_id, step in flow.steps.items():
        text = _mermaid_text(step_lines(step_id, step))
        shape = "([{}])" if step.end else "{{{{{}}}}}" if step.show else "[{}]"
        out.append(f"    {_mermaid_id(step_id)}{shape.format(text)}")
    if flow.commands:
        out.append(f'    {ANY_STEP}(("any step"))')
    for edge in edges(flow):
        arrow = "-.->" if edge.dashed else "-->"
        label = f"|{_mermaid_text([edge.label])}|" if edge.label else ""
        out.append(f"    {_mermaid_id(edge.source)} {arrow}{label} {_mermaid_id(edge.target)}")
    return "\n".join(out) + "\n"


def _dot_text(lines: list[str]) -> str:
    return '"' + "\\n".join(s.replace("\\", "\\\\").replace('"', '\\"') for s in lines) + '"'


def to_dot(flow: Flow) -> str:
    """The flow as a Graphviz digraph: double octagons end, hexagons show results."""
    out = [f"digraph {_dot_text([flow.id])} {{", "    node [shape=box];"]
    out.append(f'    {START} [label="start", shape=circle];')
    for step_id, step in flow.steps.items():
        shape = "doubleoctagon" if step.end else "hexagon" if step.show else "box"
        label = _dot_text(step_lines(step_id, step))
        out.append(f"    {_dot_text([step_id])} [label={label}, shape={shape}];")
    if flow.commands:
        out.append(f'    {ANY_STEP} [label="any step", shape=circle, style=dashed];')
    for edge in edges(flow):
        source = edge.source if edge.source in (START, ANY_STEP) else _dot_text([edge.source])
        attributes = [f"label={_dot_text([edge.label])}"] if edge.label else []
        attributes += ["style=dashed"] if edge.dashed else []
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        out.append(f"    {source} -> {_dot_text([edge.target])}{suffix};")
    return "\n".join([*out, "}"]) + "\n"
