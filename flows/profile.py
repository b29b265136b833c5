"""The pre-screening profile: the contract between conversations and the rules."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

# French postal codes: 01000-95999 in mainland France and Corsica (20xxx), 97xxx/98xxx overseas.
POSTAL_CODE_PATTERN = r"^(?:0[1-9]|[1-8]\d|9[0-8])\d{3}$"


class DiplomaLevel(StrEnum):
    """French qualification levels (décret 2019-14), grouped as the rules need them."""

    BELOW_3 = "below_3"
    LEVEL_3 = "3"
    LEVEL_4 = "4"
    LEVEL_5 = "5"
    LEVEL_6_PLUS = "6_plus"

    @property
    def rank(self) -> int:
        """Numeric level used for comparisons (below 3 counts as 2)."""
        return {"below_3": 2, "3": 3, "4": 4, "5": 5, "6_plus": 6}[self.value]


class Situation(StrEnum):
    SCHOOL = "school"
    TRAINING = "training"
    EMPLOYED = "employed"
    JOB_SEEKER = "job_seeker"
    NONE = "none"


class FranceTravail(StrEnum):
    NO = "no"
    UNDER_12_MONTHS = "under_12_months"
    MONTHS_12_23 = "12_23_months"
    MONTHS_24_PLUS = "24_months_plus"


class Interest(StrEnum):
    DIGITAL = "digital"
    GREEN_SPACES = "green_spaces"
    CLEANING = "cleaning"
    BUILDING_UPKEEP = "building_upkeep"
    CARETAKER = "caretaker"
    UNDECIDED = "undecided"


# Criteria the rules derive from other fields; a person never declares them.
DERIVED_CRITERIA = frozenset({"jeune", "senior", "cap_bep", "deld", "detld"})
LEVEL1_CRITERIA = ("rsa", "ass", "aah", "detld")
LEVEL2_CRITERIA = (
    "cap_bep",
    "senior",
    "jeune",
    "ase",
    "deld",
    "th",
    "pi",
    "psh_pr",
    "ref_da",
    "zrr",
    "qpv",
    "detention_mj",
    "fle",
    "pm",
)
DECLARABLE_CRITERIA = tuple(
    key for key in LEVEL1_CRITERIA + LEVEL2_CRITERIA if key not in DERIVED_CRITERIA
)

Age = Annotated[int, Field(ge=0, le=120)]


class Profile(BaseModel):
    """What the conversation learns about a person; null means not known yet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age: Age | None = None
    postal_code: str | None = None
    diploma_level: DiplomaLevel | None = None
    situation: Situation | None = None
    france_travail: FranceTravail | None = None
    criteria: list[str] = Field(default_factory=list)
    interests: list[Interest] = Field(default_factory=list)
    child_age: Age | None = None

    @field_validator("age", "child_age", mode="before")
    @classmethod
    def _whole_years(cls, value: object) -> object:
        # JSON has no integer type of its own: refuse 19.5 or "19" rather than guess.
        if isinstance(value, bool) or (value is not None and not isinstance(value, int)):
            raise ValueError("must be a whole number of years or null")
        return value

    @field_validator("postal_code")
    @classmethod
    def _french_postal_code(cls, value: str | None) -> str | None:
        if value is not None and not re.match(POSTAL_CODE_PATTERN, value):
            raise ValueError("expected a French postal code of 5 digits, such as 93500")
        return value

    @field_validator("criteria")
    @classmethod
    def _known_criteria(cls, value: list[str]) -> list[str]:
        derived = sorted(set(value) & DERIVED_CRITERIA)
        if derived:
            raise ValueError(
                f"{', '.join(derived)} cannot be declared: derived from age, diploma level"
                " or time with France Travail"
            )
        unknown = sorted(set(value) - set(DECLARABLE_CRITERIA))
        if unknown:
            raise ValueError(
                f"unknown criterion {', '.join(repr(k) for k in unknown)};"
                f" expected some of {', '.join(DECLARABLE_CRITERIA)}"
            )
        return sorted(set(value), key=value.index)

    @field_validator("interests")
    @classmethod
    def _unique_interests(cls, value: list[Interest]) -> list[Interest]:
        return sorted(set(value), key=value.index)


PROFILE_FIELDS = tuple(Profile.model_fields)

# Values a choice may store in each profile field, for checking flow files.
CHOICE_VALUES: dict[str, frozenset[str]] = {
    "diploma_level": frozenset(v.value for v in DiplomaLevel),
    "situation": frozenset(v.value for v in Situation),
    "france_travail": frozenset(v.value for v in FranceTravail),
    "interests": frozenset(v.value for v in Interest),
    "criteria": frozenset(DECLARABLE_CRITERIA),
}
LIST_FIELDS = frozenset({"criteria", "interests"})
NUMBER_FIELDS = frozenset({"age", "child_age"})
