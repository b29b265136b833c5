"""The state of one conversation: plain JSON, persisted after every step."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from flows.i18n import Language
from flows.profile import PROFILE_FIELDS, Profile


class ConversationState(BaseModel):
    flow_id: str
    flow_version: str
    language: Language = "fr"
    step: str | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    # Input steps answered, most recent last: what "back" walks through.
    history: list[str] = Field(default_factory=list)
    retries: int = 0
    editing: bool = False
    stuck_at: str | None = None
    orientation_shown: bool = False
    human_requested: bool = False
    done: bool = False
    outcome: str | None = None
    # /supprimer asked: the next input confirms or cancels the erasure.
    erase_pending: bool = False

    def unknown_criteria(self) -> frozenset[str]:
        """Criteria the person said they do not know (their district: flows/places.py)."""
        return frozenset({"qpv"}) if self.answers.get("qpv_district") == "unknown" else frozenset()

    def profile(self) -> Profile:
        """The profile fields answered so far (invalid leftovers are dropped, never guessed)."""
        known = {k: v for k, v in self.answers.items() if k in PROFILE_FIELDS and v is not None}
        try:
            return Profile.model_validate(known)
        except ValueError:
            return Profile.model_validate({k: v for k, v in known.items() if _valid_alone(k, v)})


def _valid_alone(name: str, value: Any) -> bool:
    try:
        Profile.model_validate({name: value})
    except ValueError:
        return False
    return True
