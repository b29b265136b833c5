"""The product owner's personas, and answering the conversation's questions as one would,
from its profile only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flows.places import default_places
from flows.profile import PROFILE_FIELDS
from tests.auxil.paths import PERSONAS_PATH

# How a persona answers the questions that are not about its profile.
OTHER_ANSWERS: dict[str, Any] = {
    "consent": "yes",
    "contact_consent": "yes",
    "other_routes": "counsellor",
    "first_name": "Samir",
    "contact_preference": "call",
    "phone": "06 12 34 56 78",
    "email": "samir@example.org",
    "confirm": "confirm",
    "sms_reminders": "yes",
}


class UnexpectedQuestion(AssertionError):
    """The conversation asked something the persona's profile cannot answer."""


def answer_for(question: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """The /api/chat body fields answering a question ({"text": …} or {"choice": …}…)."""
    field, kind = question["field"], question["kind"]
    values = [c["value"] for c in question["choices"]]
    if field == "asker":
        return {"choice": "parent" if profile.get("child_age") is not None else "self"}
    if field in ("site", "session"):
        # The first site, the soonest session.
        return {"choice": values[0]}
    if field == "commune":
        # The first commune of the postal code; one with a priority district for a persona
        # living in one (95500 is Gonesse, and three villages without any).
        places = default_places()
        if "qpv" in (profile.get("criteria") or []):
            return {"choice": next((v for v in values if places.qpvs_in(v)), values[0])}
        return {"choice": values[0]}
    if field == "qpv_district":
        # A persona living in a priority district names the first one of its commune.
        return {"choice": values[0] if "qpv" in (profile.get("criteria") or []) else "no"}
    if field in PROFILE_FIELDS:
        value = profile.get(field)
        if kind == "multi":
            return {"choices": [v for v in values if v in (value or [])]}
        if value is None:
            raise UnexpectedQuestion(f"asked {field}, which the profile leaves empty")
        return {"choice": value} if kind == "choice" else {"text": str(value)}
    if field in OTHER_ANSWERS:
        answer = OTHER_ANSWERS[field]
        return {"choice": answer} if kind == "choice" else {"text": answer}
    raise UnexpectedQuestion(f"no answer for question {field!r} ({kind})")


# Samir, 23, job seeker in Pantin (a priority district): fits L'École du Web and gives his
# number. The tests' usual lead.
SAMIR_IN_PANTIN: dict[str, Any] = {
    "age": 23,
    "postal_code": "93500",
    "diploma_level": "below_3",
    "situation": "none",
    "france_travail": "under_12_months",
    "criteria": ["qpv"],
    "interests": ["digital"],
    "child_age": None,
}


def persona_params() -> list[Any]:
    """One pytest param per persona, or one skipped param naming why there are none."""
    if not PERSONAS_PATH.exists():
        reason = f"personas not found at {PERSONAS_PATH} (../shared is not beside the repo)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-personas")]
    personas = json.loads(PERSONAS_PATH.read_text(encoding="utf-8"))
    return [pytest.param(p, id=p["who"][:40]) for p in personas]
