"""The rules of profile.md, boundary by boundary."""

from __future__ import annotations

from typing import Any

import pytest

from flows.profile import Profile
from flows.rules import Orientation, orient
from tests.auxil.personas import persona_params

# A job seeker whom every adult programme can take: the base the boundary tests vary.
BASE: dict[str, Any] = {
    "age": 30,
    "postal_code": "93500",
    "diploma_level": "4",
    "situation": "job_seeker",
    "france_travail": "under_12_months",
    "criteria": ["rsa"],
    "interests": ["digital"],
    "child_age": None,
}


def orientation(**changes: Any) -> Orientation:
    return orient(Profile.model_validate({**BASE, **changes}))


def fits(result: Orientation) -> dict[str, str]:
    return {p.id: p.fit for p in result.programmes}


@pytest.mark.parametrize("persona", persona_params())
def test_personas_get_the_expected_orientation(persona: dict[str, Any]) -> None:
    result = orient(Profile.model_validate(persona["profile"]))
    expected = persona["expected"]
    assert result.iae.model_dump() == expected["iae"]
    assert fits(result) == expected["fit"]
    assert result.sites == expected["sites"]


@pytest.mark.parametrize(
    ("age", "jeune", "senior"),
    [
        (15, True, False),
        (25, True, False),
        (26, False, False),
        (49, False, False),
        (50, False, True),
    ],
)
def test_age_derives_jeune_below_26_and_senior_from_50(age: int, jeune: bool, senior: bool) -> None:
    level2 = orientation(age=age, criteria=[]).iae.level2
    assert ("jeune" in level2) is jeune
    assert ("senior" in level2) is senior


@pytest.mark.parametrize(
    ("age", "fit"), [(15, "no"), (16, "yes"), (17, "yes"), (25, "yes"), (26, "no")]
)
def test_fabrique_is_for_16_to_25(age: int, fit: str) -> None:
    assert orientation(age=age).fit_of("fabrique_numerique") == fit


@pytest.mark.parametrize(
    ("age", "fit"), [(15, "no"), (16, "no"), (17, "no"), (18, "yes"), (50, "yes")]
)
def test_ecole_du_web_and_insertion_jobs_start_at_18(age: int, fit: str) -> None:
    result = orientation(age=age)
    assert result.fit_of("ecole_du_web") == fit
    assert result.fit_of("insertion_jobs") == fit


@pytest.mark.parametrize(
    ("level", "fit"),
    [("below_3", "yes"), ("3", "yes"), ("4", "yes"), ("5", "maybe"), ("6_plus", "maybe")],
)
def test_ecole_du_web_targets_the_bac_or_below(level: str, fit: str) -> None:
    assert orientation(diploma_level=level).fit_of("ecole_du_web") == fit


@pytest.mark.parametrize(
    ("level", "cap_bep"), [("below_3", True), ("3", True), ("4", False), ("5", False)]
)
def test_cap_bep_means_level_3_or_below(level: str, cap_bep: bool) -> None:
    assert ("cap_bep" in orientation(diploma_level=level, criteria=[]).iae.level2) is cap_bep


@pytest.mark.parametrize("situation", ["school", "training", "employed"])
def test_people_in_school_training_or_work_are_not_oriented_to_adult_programmes(
    situation: str,
) -> None:
    result = orientation(situation=situation, age=20)
    assert fits(result) == {
        "ecole_du_web": "no",
        "fabrique_numerique": "no",
        "insertion_jobs": "no",
        "children_workshops": "no",
    }
    assert all(p.reasons for p in result.programmes)


def test_three_level2_criteria_meet_the_aci_rule_two_meet_the_ai_rule() -> None:
    two = orientation(age=30, diploma_level="4", criteria=["qpv", "pi"]).iae
    three = orientation(age=30, diploma_level="4", criteria=["qpv", "pi", "th"]).iae
    assert (two.aci, two.ai) == (False, True)
    assert (three.aci, three.ai) == (True, True)


def test_one_level1_criterion_is_enough() -> None:
    iae = orientation(criteria=["aah"], age=30, diploma_level="5").iae
    assert iae.level1 == ["aah"]
    assert iae.aci
    assert iae.ai


def test_without_criteria_a_prescriber_can_confirm_so_the_answer_is_maybe() -> None:
    result = orientation(age=30, diploma_level="4", criteria=[])
    assert result.fit_of("ecole_du_web") == "maybe"
    assert result.fit_of("insertion_jobs") == "maybe"
    ecole = next(p for p in result.programmes if p.id == "ecole_du_web")
    assert any("peut te confirmer" in r for r in ecole.reasons)


@pytest.mark.parametrize(
    ("france_travail", "held", "not_held"),
    [
        ("under_12_months", [], ["deld", "detld"]),
        ("12_23_months", ["deld"], ["detld"]),
        ("24_months_plus", ["detld"], ["deld"]),
    ],
)
def test_france_travail_time_gives_deld_or_detld_never_both(
    france_travail: str, held: list[str], not_held: list[str]
) -> None:
    iae = orientation(france_travail=france_travail, criteria=[]).iae
    keys = iae.level1 + iae.level2
    assert all(k in keys for k in held)
    assert not any(k in keys for k in not_held)
    assert ("detld" in iae.level1) is ("detld" in held)


def test_jeune_and_senior_are_never_held_together() -> None:
    for age in range(0, 121):
        level2 = orientation(age=age, criteria=[]).iae.level2
        assert not {"jeune", "senior"} <= set(level2)


@pytest.mark.parametrize("field", ["age", "situation", "diploma_level"])
def test_a_null_field_a_rule_needs_gives_maybe_and_is_listed(field: str) -> None:
    result = orientation(**{field: None})
    assert result.fit_of("ecole_du_web") == "maybe"
    assert field in result.missing
    ecole = next(p for p in result.programmes if p.id == "ecole_du_web")
    assert any("il nous manque" in r.lower() for r in ecole.reasons)


def test_an_empty_profile_is_never_yes_and_says_what_is_missing() -> None:
    result = orient(Profile())
    assert {p.fit for p in result.programmes} <= {"maybe", "no"}
    assert result.missing == ["age", "diploma_level", "situation", "france_travail"]
    assert result.fit_of("children_workshops") == "no"


def test_null_france_travail_does_not_matter_when_eligibility_is_already_met() -> None:
    result = orientation(france_travail=None, criteria=["rsa"])
    assert result.fit_of("ecole_du_web") == "yes"
    assert result.missing == []


@pytest.mark.parametrize(("child_age", "fit"), [(8, "no"), (9, "yes"), (15, "yes"), (16, "no")])
def test_workshops_take_children_from_9_to_15(child_age: int, fit: str) -> None:
    result = orientation(child_age=child_age)
    assert result.fit_of("children_workshops") == fit
    # A parent's request is about the child: the adult programmes are not offered.
    for other in ("ecole_du_web", "fabrique_numerique", "insertion_jobs"):
        assert result.fit_of(other) == "no"
    young = next(p for p in result.programmes if p.id == "fabrique_numerique")
    assert any("16 ans ou plus" in r for r in young.reasons)


def test_programmes_are_ordered_by_fit_then_by_interests() -> None:
    digital = orientation(interests=["digital"], age=22)
    green = orientation(interests=["green_spaces"], age=22)
    assert [p.id for p in digital.programmes][:3] == [
        "ecole_du_web",
        "fabrique_numerique",
        "insertion_jobs",
    ]
    assert [p.id for p in green.programmes][0] == "insertion_jobs"
    assert digital.programmes[-1].id == "children_workshops"


def test_reasons_are_given_in_english_on_request() -> None:
    english = orient(Profile.model_validate(BASE), language="en")
    french = orient(Profile.model_validate(BASE), language="fr")
    assert english.programmes[0].reasons != french.programmes[0].reasons
    assert "web developer" in english.programmes[0].reasons[0]


@pytest.mark.parametrize(
    ("postal_code", "sites"),
    [
        ("92390", ["villeneuve-la-garenne"]),
        ("93500", ["pantin"]),
        ("93380", ["pierrefitte-sur-seine"]),
        ("93140", ["pantin", "pierrefitte-sur-seine"]),
        ("13015", ["marseille"]),
        ("69003", []),
        ("97400", []),
        (None, []),
    ],
)
def test_sites_come_from_the_catalogue(postal_code: str | None, sites: list[str]) -> None:
    assert orientation(postal_code=postal_code).sites == sites


@pytest.mark.parametrize(
    ("changes", "told"),
    [
        ({}, "Ton conseiller Mission locale ou France Travail peut te confirmer"),
        ({"france_travail": "no"}, "Une Mission locale ou France Travail peut te confirmer"),
        ({"situation": "none", "france_travail": "no"}, "Une Mission locale ou France Travail"),
        ({"france_travail": None}, "Une Mission locale ou France Travail peut te confirmer"),
    ],
)
def test_only_someone_registered_is_sent_to_their_own_adviser(
    changes: dict[str, Any], told: str
) -> None:
    # No level-1 criterion and not enough level-2 ones: eligibility is to be confirmed.
    result = orientation(criteria=[], diploma_level="4", age=30, **changes)
    (jobs,) = [p for p in result.programmes if p.id == "insertion_jobs"]
    assert jobs.fit == "maybe"
    assert any(told in reason for reason in jobs.reasons)
