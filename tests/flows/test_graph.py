"""The committed diagram matches the flow, and both formats draw every step."""

from __future__ import annotations

import re

import pytest

from flows.flow import Condition, Flow
from flows.flow_loader import FLOWS_DIR, load_flow_file
from flows.graph import condition_text, edges, to_dot, to_mermaid


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow_file(FLOWS_DIR / "prescreening.yaml")


def test_the_committed_diagram_is_up_to_date(flow: Flow) -> None:
    committed = (FLOWS_DIR / "prescreening.mmd").read_text(encoding="utf-8")
    assert committed == to_mermaid(flow), "prescreening.mmd is stale: run `make flows-graph`"


def test_mermaid_draws_every_step(flow: Flow) -> None:
    diagram = to_mermaid(flow)
    assert diagram.startswith("flowchart TD\n")
    for step_id in flow.steps:
        # One node per step: its id, a shape opening, then the label starting with the id.
        assert re.search(rf'^    {step_id}[\[({{]+"{step_id}\b', diagram, re.MULTILINE), step_id
    assert 'no_consent(["no_consent' in diagram
    assert 'orientation{{"orientation' in diagram
    assert 'ANY_STEP -.->|"human"| human_start' in diagram


def test_dot_draws_every_step(flow: Flow) -> None:
    diagram = to_dot(flow)
    assert diagram.startswith("digraph ")
    for step_id in flow.steps:
        assert f'    "{step_id}" [label="{step_id}' in diagram
    assert '"done" [label="done\\noutcome: lead", shape=doubleoctagon];' in diagram


def test_edges_follow_conditions_then_else(flow: Flow) -> None:
    from_age = [(e.target, e.label) for e in edges(flow) if e.source == "age"]
    assert from_age == [("under_15", "age < 15"), ("postal_code", "else")]
    # Choices without their own next follow the step's single, unlabelled next.
    assert [(e.target, e.label) for e in edges(flow) if e.source == "situation"] == [
        ("france_travail", "")
    ]


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        ({"field": "age", "lt": 15}, "age < 15"),
        ({"field": "situation", "in": ["school", "training"]}, "situation in school, training"),
        ({"field": "first_name", "is_null": False}, "first_name is not null"),
        (
            {"any": [{"field": "age", "lt": 18}, {"field": "situation", "ne": "job_seeker"}]},
            "any(age < 18; situation != job_seeker)",
        ),
        ({"not": {"field": "asker", "eq": "parent"}}, "not(asker = parent)"),
    ],
)
def test_conditions_read_compactly(condition: dict[str, object], text: str) -> None:
    assert condition_text(Condition.model_validate(condition)) == text


def test_output_is_stable(flow: Flow) -> None:
    reloaded = load_flow_file(FLOWS_DIR / "prescreening.yaml")
    assert to_mermaid(reloaded) == to_mermaid(flow)
    assert to_dot(reloaded) == to_dot(flow)
