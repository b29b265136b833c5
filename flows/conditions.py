"""Evaluating flow conditions against the answers so far."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flows.flow import Condition

Facts = Mapping[str, Any]


def _compare(value: Any, condition: Condition) -> bool:
    checks: list[tuple[Any, Callable[[Any, Any], bool]]] = [
        (condition.lt, lambda v, x: v < x),
        (condition.le, lambda v, x: v <= x),
        (condition.gt, lambda v, x: v > x),
        (condition.ge, lambda v, x: v >= x),
    ]
    for bound, test in checks:
        if bound is not None and (not isinstance(value, int | float) or not test(value, bound)):
            return False
    if condition.eq is not None and value != condition.eq:
        return False
    if condition.ne is not None and value == condition.ne:
        return False
    if condition.in_ is not None and not _member(value, condition.in_):
        return False
    return not (condition.not_in is not None and _member(value, condition.not_in))


def _member(value: Any, options: list[Any]) -> bool:
    # A list answer (criteria, interests) matches when it holds any of the options.
    if isinstance(value, list):
        return any(item in options for item in value)
    return value in options


def holds(condition: Condition, facts: Facts) -> bool:
    """Whether a condition holds for these answers and computed facts."""
    if condition.all is not None and not all(holds(c, facts) for c in condition.all):
        return False
    if condition.any is not None and not any(holds(c, facts) for c in condition.any):
        return False
    if condition.not_ is not None and holds(condition.not_, facts):
        return False
    if condition.field is None:
        return True
    value = facts.get(condition.field)
    if condition.is_null is not None and (value is None) is not condition.is_null:
        return False
    if value is None:
        # Unknown answers satisfy only explicit null tests: never guess from a missing value.
        return condition.is_null is True or condition.ne is not None
    return _compare(value, condition)
