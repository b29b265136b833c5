"""The pre-screening rules: a profile in, an orientation out (profile.md is the contract)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from flows.catalogue import PROGRAMME_IDS, Catalogue, ProgrammeId, ProgrammeRules, default_catalogue
from flows.i18n import Language, text
from flows.profile import (
    LEVEL1_CRITERIA,
    LEVEL2_CRITERIA,
    PROFILE_FIELDS,
    DiplomaLevel,
    FranceTravail,
    Profile,
)

Fit = Literal["yes", "maybe", "no"]
FIT_RANK: dict[Fit, int] = {"yes": 0, "maybe": 1, "no": 2}


class IaeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    level1: list[str]
    level2: list[str]
    aci: bool
    ai: bool


class ProgrammeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: ProgrammeId
    fit: Fit
    reasons: list[str]


class Orientation(BaseModel):
    model_config = ConfigDict(frozen=True)

    iae: IaeResult
    programmes: list[ProgrammeResult]
    sites: list[str]
    missing: list[str]

    def fit_of(self, programme_id: ProgrammeId) -> Fit:
        """The fit of one programme."""
        return next(p.fit for p in self.programmes if p.id == programme_id)


def held_criteria(profile: Profile, catalogue: Catalogue) -> set[str]:
    """Declared criteria plus those derived from age, diploma and France Travail time."""
    held = set(profile.criteria)
    if profile.age is not None:
        if profile.age < catalogue.iae.jeune_below_age:
            held.add("jeune")
        if profile.age >= catalogue.iae.senior_from_age:
            held.add("senior")
    if profile.diploma_level in (DiplomaLevel.BELOW_3, DiplomaLevel.LEVEL_3):
        held.add("cap_bep")
    if profile.france_travail is FranceTravail.MONTHS_12_23:
        held.add("deld")
    if profile.france_travail is FranceTravail.MONTHS_24_PLUS:
        held.add("detld")
    return held


def iae_eligibility(profile: Profile, catalogue: Catalogue) -> IaeResult:
    """Which IAE criteria a profile holds and which structure rules it meets."""
    held = held_criteria(profile, catalogue)
    level1 = sorted(held & set(LEVEL1_CRITERIA))
    level2 = sorted(held & set(LEVEL2_CRITERIA))
    needed = catalogue.iae.level2_needed
    return IaeResult(
        level1=level1,
        level2=level2,
        aci=bool(level1) or len(level2) >= needed["aci"],
        ai=bool(level1) or len(level2) >= needed["ai"],
    )


class _Assessment:
    """Collects the fit, reasons and missing fields of one programme."""

    def __init__(self, programme_id: ProgrammeId, language: Language) -> None:
        self.programme_id = programme_id
        self.language = language
        self.reasons: list[str] = []
        self.missing: list[str] = []

    def say(self, reason: str, **params: object) -> None:
        self.reasons.append(text(f"reason.{reason}", self.language, **params))

    def need(self, *fields: str) -> None:
        self.missing.extend(f for f in fields if f not in self.missing)

    def result(self, fit: Fit) -> ProgrammeResult:
        if fit == "maybe" and self.missing:
            labels = ", ".join(text(f"field.{f}", self.language) for f in self.missing)
            self.say("missing", fields=labels)
        return ProgrammeResult(id=self.programme_id, fit=fit, reasons=self.reasons)


def _excluded_by_age_or_situation(
    profile: Profile, rules: ProgrammeRules, assessment: _Assessment
) -> bool:
    excluded = False
    if rules.min_age is not None and profile.age is not None and profile.age < rules.min_age:
        assessment.say("too_young", min_age=rules.min_age)
        excluded = True
    if profile.situation is not None and profile.situation in rules.excluded_situations:
        assessment.say(f"situation_{profile.situation.value}")
        excluded = True
    return excluded


def _iae_unknowns(profile: Profile) -> list[str]:
    """Null fields that could still add a criterion to the IAE count."""
    return [
        name
        for name in ("age", "diploma_level", "france_travail")
        if getattr(profile, name) is None
    ]


def _who_confirms(profile: Profile) -> str:
    """Someone registered at France Travail has an adviser to ask; others, a place to go."""
    registered = profile.france_travail not in (None, FranceTravail.NO)
    return "confirm_eligibility" if registered else "confirm_eligibility_meet"


def _ecole_du_web(
    profile: Profile, rules: ProgrammeRules, iae: IaeResult, language: Language
) -> tuple[ProgrammeResult, list[str]]:
    assessment = _Assessment("ecole_du_web", language)
    if _excluded_by_age_or_situation(profile, rules, assessment):
        return assessment.result("no"), []
    meets_iae = iae.aci if rules.iae_rule == "aci" else iae.ai
    level_ok = (
        profile.diploma_level is not None
        and rules.max_diploma_level is not None
        and profile.diploma_level.rank <= rules.max_diploma_level.rank
    )
    for name in ("age", "situation", "diploma_level"):
        if getattr(profile, name) is None:
            assessment.need(name)
    if not meets_iae:
        assessment.need(*_iae_unknowns(profile))
    if not assessment.missing and level_ok and meets_iae:
        assessment.say("ecole_du_web.yes")
        return assessment.result("yes"), []
    if profile.diploma_level is not None and not level_ok:
        assessment.say("ecole_du_web.level_above")
    if not meets_iae:
        assessment.say(_who_confirms(profile))
    return assessment.result("maybe"), assessment.missing


def _fabrique(
    profile: Profile, rules: ProgrammeRules, language: Language
) -> tuple[ProgrammeResult, list[str]]:
    assessment = _Assessment("fabrique_numerique", language)
    low, high = rules.min_age or 0, rules.max_age or 120
    if profile.age is not None and not low <= profile.age <= high:
        assessment.say("fabrique_numerique.age", min_age=low, max_age=high)
        return assessment.result("no"), []
    allowed = rules.situations or []
    if profile.situation is not None and profile.situation not in allowed:
        assessment.say(f"situation_{profile.situation.value}")
        return assessment.result("no"), []
    for name in ("age", "situation"):
        if getattr(profile, name) is None:
            assessment.need(name)
    if assessment.missing:
        return assessment.result("maybe"), assessment.missing
    assessment.say("fabrique_numerique.yes", min_age=low, max_age=high)
    return assessment.result("yes"), []


def _insertion_jobs(
    profile: Profile, rules: ProgrammeRules, iae: IaeResult, language: Language
) -> tuple[ProgrammeResult, list[str]]:
    assessment = _Assessment("insertion_jobs", language)
    if _excluded_by_age_or_situation(profile, rules, assessment):
        return assessment.result("no"), []
    meets_iae = iae.aci or iae.ai
    for name in ("age", "situation"):
        if getattr(profile, name) is None:
            assessment.need(name)
    if not meets_iae:
        assessment.need(*_iae_unknowns(profile))
    if meets_iae and not assessment.missing:
        assessment.say("insertion_jobs.yes")
        return assessment.result("yes"), []
    if not meets_iae:
        assessment.say(_who_confirms(profile))
    return assessment.result("maybe"), assessment.missing


def _children_workshops(
    profile: Profile, rules: ProgrammeRules, language: Language
) -> ProgrammeResult:
    assessment = _Assessment("children_workshops", language)
    low, high = rules.child_min_age or 0, rules.child_max_age or 120
    if profile.child_age is None:
        assessment.say("children_workshops.not_asked", min_age=low, max_age=high)
        return assessment.result("no")
    if low <= profile.child_age <= high:
        assessment.say("children_workshops.yes", min_age=low, max_age=high)
        return assessment.result("yes")
    assessment.say("children_workshops.age", min_age=low, max_age=high)
    return assessment.result("no")


def _interest_rank(programme_id: ProgrammeId, profile: Profile, catalogue: Catalogue) -> int:
    wanted = catalogue.programmes[programme_id].interests
    ranks = [i for i, interest in enumerate(profile.interests) if interest in wanted]
    return min(ranks, default=len(profile.interests))


def orient(
    profile: Profile,
    *,
    language: Language = "fr",
    catalogue: Catalogue | None = None,
    unknown: frozenset[str] = frozenset(),
) -> Orientation:
    """Turn a profile into an orientation, with reasons in the requested language.

    ``unknown``: criteria the person could not tell (they do not know whether their district
    is a priority one). A programme they would fit with them is a ``maybe`` saying so, never
    a ``no``: the criterion is left for a counsellor to check.
    """
    if unknown:
        return _with_unknown(profile, language, catalogue, unknown)
    catalogue = catalogue or default_catalogue()
    programmes = catalogue.programmes
    iae = iae_eligibility(profile, catalogue)
    results: list[ProgrammeResult] = []
    missing: set[str] = set()
    if profile.child_age is not None:
        # A parent asking for a child: only the workshops concern the child.
        for programme_id in PROGRAMME_IDS[:3]:
            assessment = _Assessment(programme_id, language)
            assessment.say("parent_request")
            results.append(assessment.result("no"))
    else:
        for result, needed in (
            _ecole_du_web(profile, programmes["ecole_du_web"], iae, language),
            _fabrique(profile, programmes["fabrique_numerique"], language),
            _insertion_jobs(profile, programmes["insertion_jobs"], iae, language),
        ):
            results.append(result)
            missing.update(needed)
    results.append(_children_workshops(profile, programmes["children_workshops"], language))
    catalogue_order = {pid: i for i, pid in enumerate(programmes)}
    results.sort(
        key=lambda r: (
            FIT_RANK[r.fit],
            _interest_rank(r.id, profile, catalogue),
            catalogue_order[r.id],
        )
    )
    return Orientation(
        iae=iae,
        programmes=results,
        sites=catalogue.sites_for(profile.postal_code),
        missing=[name for name in PROFILE_FIELDS if name in missing],
    )


def _with_unknown(
    profile: Profile,
    language: Language,
    catalogue: Catalogue | None,
    unknown: frozenset[str],
) -> Orientation:
    """The orientation without the unknown criteria, where holding them would make a
    programme fit better turned into a ``maybe`` that says which one to check."""
    without = orient(profile, language=language, catalogue=catalogue)
    held = sorted({*profile.criteria, *unknown})
    better = orient(
        profile.model_copy(update={"criteria": held}), language=language, catalogue=catalogue
    )
    fits = {p.id: p.fit for p in better.programmes}
    programmes = []
    for programme in without.programmes:
        if FIT_RANK[fits[programme.id]] < FIT_RANK[programme.fit]:
            checks = [text(f"reason.unknown_criterion.{c}", language) for c in sorted(unknown)]
            programme = programme.model_copy(
                update={"fit": "maybe", "reasons": [*programme.reasons, *checks]}
            )
        programmes.append(programme)
    programmes.sort(key=lambda p: FIT_RANK[p.fit])
    return without.model_copy(update={"programmes": programmes})
