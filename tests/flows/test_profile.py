"""Invalid profiles are refused with the wrong field named."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from flows.profile import Profile


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"age": 300}, "age", "120"),
        ({"age": -1}, "age", "0"),
        ({"age": 19.5}, "age", "whole number"),
        ({"age": "19"}, "age", "whole number"),
        ({"age": True}, "age", "whole number"),
        ({"postal_code": "abc"}, "postal_code", "5 digits"),
        ({"postal_code": "9350"}, "postal_code", "5 digits"),
        ({"postal_code": "00000"}, "postal_code", "5 digits"),
        ({"criteria": ["foo"]}, "criteria", "unknown criterion 'foo'"),
        ({"criteria": ["jeune"]}, "criteria", "derived"),
        ({"diploma_level": "bac"}, "diploma_level", "below_3"),
        ({"situation": "student"}, "situation", "school"),
        ({"interests": ["cooking"]}, "interests", "digital"),
        ({"favourite_colour": "blue"}, "favourite_colour", "not permitted"),
    ],
)
def test_invalid_profiles_name_the_field(data: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Profile.model_validate(data)
    error = caught.value.errors()[0]
    assert error["loc"][0] == field
    assert words in str(error["msg"])


@pytest.mark.parametrize("code", ["93500", "20000", "20290", "97400", "01000", "98800"])
def test_french_postal_codes_including_corsica_and_overseas_are_accepted(code: str) -> None:
    assert Profile(postal_code=code).postal_code == code


def test_missing_fields_are_null_and_duplicates_are_folded() -> None:
    profile = Profile.model_validate(
        {"criteria": ["qpv", "qpv"], "interests": ["digital", "digital"]}
    )
    assert profile.age is None
    assert profile.criteria == ["qpv"]
    assert profile.interests == ["digital"]
