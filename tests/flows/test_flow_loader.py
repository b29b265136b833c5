"""Flow files load, and every mistake in one is reported at once with its file and step."""

from __future__ import annotations

import pytest

from flows.flow_loader import FlowError, load_flows, parse_flow

TINY = """\
# a comment
id: tiny
version: "1"
start: hello
steps:
  hello:
    say: [welcome.hello]
    end: true
"""

# Every kind of mistake at once; ids like welcome.hello and age.ask exist in messages.yaml.
BROKEN = """\
id: broken
version: "1"
start: begin
commands:
  human: welcome
steps:
  welcome:
    say: [welcome.hello, welcome.no_such_text]
    next: situation
  situation:
    ask: situation.ask
    input: choice
    field: situation
    choices:
      - {value: school, label: situation.school}
      - {value: student, label: situation.school}
    next: mood_check
  mood_check:
    next:
      - {when: {field: mood, eq: sad}, goto: ghost}
      - {goto: pet}
  pet:
    ask: age.ask
    input: text
    field: pet_name
    next: stuck_here
  stuck_here:
    say: [welcome.hello]
  orphan:
    say: [welcome.hello]
    end: true
  weird:
    ask: age.ask
    input: telepathy
"""


def problems_of(text: str, source: str = "broken.yaml") -> list[str]:
    with pytest.raises(FlowError) as caught:
        parse_flow(text, source=source)
    return caught.value.problems


def test_the_shipped_flows_load() -> None:
    flows = load_flows()
    assert "prescreening" in flows
    for flow in flows.values():
        assert flow.steps
        assert flow.pinned_version.startswith(f"{flow.version}+")


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("step 'mood_check'", "leads to unknown step 'ghost'"),
        ("step 'orphan'", "unreachable from 'begin'"),
        ("step 'stuck_here'", "dead end"),
        ("step 'welcome'", "message 'welcome.no_such_text' has no French text"),
        ("step 'pet'", "field 'pet_name' is neither a profile field nor declared in 'answers'"),
        ("step 'situation'", "choice 'student' is not a value the rules know for 'situation'"),
        ("step 'mood_check'", "condition on unknown field 'mood'"),
        ("start step 'begin'", "does not exist"),
        ("step 'weird'", "input: Input should be"),
    ],
)
def test_a_broken_flow_reports_every_problem(where: str, reason: str) -> None:
    problems = problems_of(BROKEN)
    matching = [p for p in problems if p.startswith(f"broken.yaml: {where}") and reason in p]
    assert matching, f"no problem '{where}: …{reason}…' in:\n" + "\n".join(problems)


def test_an_unknown_summary_field_is_named() -> None:
    text = TINY.replace("steps:", "summary_fields: [shoe_size]\nsteps:")
    assert problems_of(text, "tiny.yaml") == [
        "tiny.yaml: summary field 'shoe_size' is not a known field"
    ]


def test_invalid_yaml_is_named() -> None:
    (problem,) = problems_of("id: [unclosed\n", "bad.yaml")
    assert problem.startswith("bad.yaml: not valid YAML")


def test_the_version_changes_with_any_character() -> None:
    first, again = parse_flow(TINY), parse_flow(TINY)
    changed = parse_flow(TINY.replace("# a comment", "# a commend"))
    assert first.pinned_version == again.pinned_version
    assert first.pinned_version.startswith("1+")
    assert changed.pinned_version != first.pinned_version
    assert changed.version == first.version


MULTI = TINY.replace(
    "    say: [welcome.hello]\n    end: true\n",
    "    ask: interests.ask\n    input: choice\n    field: diploma_level\n    choices:\n"
    "      - {value: '4', label: diploma_level.4, words: [bac, Bac pro]}\n"
    "      - {value: '5', label: diploma_level.5, words: [BTS, 'BAC pro']}\n"
    "    none_label: no.such.text\n"
    "    next: bye\n"
    "  bye:\n    say: [welcome.hello]\n    end: true\n",
)


@pytest.mark.parametrize(
    "problem",
    [
        "tiny.yaml: step 'hello': word 'BAC pro' names both '4' and '5'",
        "tiny.yaml: step 'hello': message 'no.such.text' has no French text in messages.yaml",
        "tiny.yaml: step 'hello': 'none_label' names the empty answer of a 'multi' input only",
    ],
)
def test_typed_words_and_none_labels_are_checked(problem: str) -> None:
    assert problem in problems_of(MULTI, "tiny.yaml")


SESSIONS = TINY.replace(
    "    say: [welcome.hello]\n    end: true\n",
    "    ask: booking.ask\n    input: text\n    choices_from: sessions\n    next: shown\n"
    "  shown:\n    show: booking\n    next: bye\n"
    "  bye:\n    say: [welcome.hello]\n    end: true\n",
)


@pytest.mark.parametrize(
    "problem",
    [
        "tiny.yaml: step 'hello': choices from 'sessions' need input 'choice' and a field",
    ],
)
def test_a_step_offering_sessions_is_checked(problem: str) -> None:
    assert problem in problems_of(SESSIONS, "tiny.yaml")


def test_showing_a_booking_needs_a_step_that_offers_sessions() -> None:
    alone = TINY.replace(
        "    say: [welcome.hello]\n    end: true\n",
        "    show: booking\n    next: bye\n  bye:\n    say: [welcome.hello]\n    end: true\n",
    )
    problems = problems_of(alone, "tiny.yaml")
    assert "tiny.yaml: step 'hello': 'show: booking' needs a step with choices from 'sessions'" in (
        problems
    )
