"""Official places in the conversation: postal codes that exist, the commune, and the
priority districts asked by name (flows/places.py, data of ../shared/data/geo)."""

from __future__ import annotations

import pytest

from flows.catalogue import default_catalogue
from flows.flow import Flow
from flows.flow_loader import load_flows
from flows.places import default_places
from flows.rules import orient
from tests.auxil.flow_person import Person


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flows()["prescreening"]


def at_postal_code(flow: Flow, age: str = "=23") -> Person:
    person = Person(flow)
    person.answer("yes", "self", age)
    assert person.asking == "postal_code"
    return person


def to_the_district(flow: Flow, postal_code: str) -> Person:
    person = at_postal_code(flow)
    person.answer(f"={postal_code}", "none", "below_3", ())
    return person


def test_a_postal_code_that_does_not_exist_is_asked_again_kindly(flow: Flow) -> None:
    person = at_postal_code(flow)
    person.answer("=93999")
    assert person.asking == "postal_code"
    assert "Je ne trouve pas le code postal 93999, tu peux vérifier ?" in person.texts()[0]
    assert "postal_code" not in person.state.answers


def test_a_postal_code_of_one_commune_keeps_its_insee_code(flow: Flow) -> None:
    person = at_postal_code(flow)
    person.answer("=78300")
    assert person.state.answers["commune"] == "78498"  # Poissy
    assert person.asking == "situation"


def test_a_postal_code_of_several_communes_asks_which(flow: Flow) -> None:
    person = at_postal_code(flow)
    person.answer("=01000")
    assert person.asking == "commune"
    question = person.turn.question
    assert question is not None
    labels = [person.texts()[-1], *(str(o.label) for o in question.options)]
    assert any("Bourg-en-Bresse" in label for label in labels)
    person.answer("01053")
    assert person.state.answers["commune"] == "01053"


def test_villeneuve_names_its_priority_district(flow: Flow) -> None:
    person = to_the_district(flow, "92390")
    assert person.state.answers["commune"] == "92078"
    assert person.asking == "qpv_district"
    said = "\n".join(person.texts())
    assert "À Villeneuve-la-Garenne, ces quartiers sont prioritaires" in said
    question = person.turn.question
    assert question is not None
    names = [o.label for o in question.options]
    assert [getattr(name, "text", None) for name in names][0] == "Cap Villeneuve"
    person.answer(question.options[0].value)
    assert "qpv" in person.state.answers["criteria"]
    assert person.asking == "criteria"  # the other life situations, without the district


def test_not_knowing_keeps_the_criterion_open_never_a_no(flow: Flow) -> None:
    person = to_the_district(flow, "92390")
    person.answer("unknown")
    assert "qpv" not in person.state.answers.get("criteria", [])
    assert person.state.unknown_criteria() == frozenset({"qpv"})
    profile = person.state.profile()
    without = {p.id: p.fit for p in orient(profile).programmes}
    held = orient(profile.model_copy(update={"criteria": [*profile.criteria, "qpv"]}))
    unsure = orient(profile, unknown=frozenset({"qpv"}))
    for programme in unsure.programmes:
        better = next(p.fit for p in held.programmes if p.id == programme.id)
        if better != without[programme.id] and better == "yes":
            assert programme.fit == "maybe"
            assert any("quartier prioritaire" in reason for reason in programme.reasons)


def test_pierrefitte_reads_as_a_commune_deleguee_of_saint_denis(flow: Flow) -> None:
    person = at_postal_code(flow)
    person.answer("=93380")
    assert person.state.answers["commune"] == "93066"
    [commune] = default_places().communes_for("93380")
    assert commune.label == "Pierrefitte-sur-Seine (Saint-Denis)"
    # The site there, not Pantin's: the catalogue lists Saint-Denis's INSEE code for it.
    assert default_catalogue().sites_for("93380") == ["pierrefitte-sur-seine"]


def test_paris_postal_codes_are_arrondissements(flow: Flow) -> None:
    person = at_postal_code(flow)
    person.answer("=75001")
    assert person.state.answers["commune"] == "75101"


def test_out_of_the_area_the_person_hears_their_commune_and_department(flow: Flow) -> None:
    person = at_postal_code(flow)
    person.answer("=69001")
    said = "\n".join(person.texts())
    assert "Tu es à Lyon" in said
    assert "Rhône (69)" in said


def test_a_commune_without_a_priority_district_is_not_asked_and_told_why(flow: Flow) -> None:
    person = to_the_district(flow, "92370")  # Chaville: no QPV
    assert person.state.answers["commune"] == "92022"
    assert person.asking == "criteria"  # the other life situations: no district to ask
    question = person.turn.question
    assert question is not None
    assert "qpv" not in [o.value for o in question.options]
    person.answer((), ("digital",))
    said = "\n".join(person.texts())
    assert "À Chaville, il n'y a pas de quartier prioritaire de la ville" in said


def test_without_district_data_the_life_situations_ask_as_before(flow: Flow) -> None:
    person = to_the_district(flow, "69003")  # Lyon: no QPV data here
    assert person.asking == "criteria"
    question = person.turn.question
    assert question is not None
    assert "qpv" in [o.value for o in question.options]


def test_paris_is_asked_without_a_list_of_every_district_of_the_city(flow: Flow) -> None:
    person = to_the_district(flow, "75016")  # Paris's 21 districts are listed for the city
    assert person.asking == "criteria"
    question = person.turn.question
    assert question is not None
    assert "qpv" in [o.value for o in question.options]
