"""Typed answers read as people type them, and never at a cost a stranger can choose."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from flows.inputs import MAX_TEXT_LENGTH, InvalidInput, match_choices, read_number

OPTIONS = [("digital", "Le numérique"), ("care", "Le soin"), ("trade", "Le commerce")]


@pytest.mark.parametrize(
    "typed",
    ["19", " 19. ", "19 ans", "19ans", "19 an", "19 years old", "19 yo", "19 !", "19 ans !"],
)
def test_an_age_is_read_with_or_without_its_unit(typed: str) -> None:
    assert read_number(typed, 15, 99) == 19


@pytest.mark.parametrize("typed", ["19 x", "dix-neuf", "19 ans ans", "1 9"])
def test_anything_else_is_not_an_age(typed: str) -> None:
    with pytest.raises(InvalidInput):
        read_number(typed, 15, 99)


def test_choices_are_read_by_number_or_label() -> None:
    assert match_choices("1  3", OPTIONS) == ["digital", "trade"]
    assert match_choices("Le soin, 1", OPTIONS) == ["care", "digital"]


def seconds_of_cpu(read: Callable[[], object]) -> float:
    started = time.process_time()
    with contextlib.suppress(InvalidInput):
        read()
    return time.process_time() - started


def test_a_long_run_of_spaces_costs_no_more_than_any_text() -> None:
    # Whitespace matched by several patterns in a row made the regular expressions try every
    # way of sharing it out: an age of "1", 1500 spaces and "x" took 8 s of CPU (145 s at the
    # 4000 characters a message may have), with the event loop and every chat waiting.
    spaces = " " * (MAX_TEXT_LENGTH - 2)
    assert seconds_of_cpu(lambda: read_number(f"1{spaces[:1500]}x", 15, 99)) < 0.1
    assert seconds_of_cpu(lambda: read_number(f"1{spaces}x", 15, 99)) < 0.1
    assert seconds_of_cpu(lambda: match_choices(f"a{spaces}b", OPTIONS)) < 0.1
