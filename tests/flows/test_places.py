"""The shipped place data answer real cases as the official files state them."""

from __future__ import annotations

import fnmatch
import tomllib

import pytest

from flows.places import PLACES_DIR, Commune, Places, Qpv, default_places
from tests.auxil.paths import ROOT


@pytest.fixture(scope="module")
def places() -> Places:
    return default_places()


def test_the_data_say_where_they_come_from(places: Places) -> None:
    assert places.version == ("@etalab/decoupage-administratif 6.0.0 (2026-04-09); QPV 2024 (ANCT)")
    assert places.licence == "Licence Ouverte / Etalab 2.0"


def test_villeneuve_la_garenne_and_its_district(places: Places) -> None:
    assert places.communes_for("92390") == (Commune("92078", "Villeneuve-la-Garenne", "92"),)
    assert places.qpvs_in("92078") == (Qpv("QN09215M", "Cap Villeneuve"),)
    assert places.qpv_name("QN09215M") == "Cap Villeneuve"
    assert places.department_name("92") == "Hauts-de-Seine"


def test_poissy(places: Places) -> None:
    [poissy] = places.communes_for("78300")
    assert (poissy.insee, poissy.label, poissy.department) == ("78498", "Poissy", "78")


def test_pierrefitte_reads_as_the_commune_deleguee_of_saint_denis(places: Places) -> None:
    [commune] = places.communes_for("93380")
    assert commune == Commune("93066", "Saint-Denis", "93", delegated="Pierrefitte-sur-Seine")
    assert commune.label == "Pierrefitte-sur-Seine (Saint-Denis)"
    # Saint-Denis's own postal codes give Saint-Denis plainly.
    assert [c.label for c in places.communes_for("93200")] == ["Saint-Denis"]
    # The merged commune's QPVs, Pierrefitte's among them, are listed under 93066, by name.
    saint_denis = places.qpvs_in("93066") or ()
    assert len(saint_denis) == 10
    assert saint_denis[:2] == (
        Qpv("QN09365N", "Calon"),
        Qpv("QN09335M", "Centre Ville - Chatenay - Maroc - Poètes"),
    )
    assert Qpv("QN09335M", "Centre Ville - Chatenay - Maroc - Poètes") in (
        places.qpvs_in("93072") or ()
    )
    # The former commune's code is no commune any more.
    assert places.commune("93059") is None


def test_paris_arrondissements_have_the_citys_districts(places: Places) -> None:
    assert places.communes_for("75001") == (Commune("75101", "Paris 1er Arrondissement", "75"),)
    paris = places.qpvs_in("75056")
    assert paris
    assert places.qpvs_in("75101") == paris == places.qpvs_in("75120")
    assert places.commune("75056") == Commune("75056", "Paris", "75")
    assert places.qpvs_in("13201") == places.qpvs_in("13055")
    assert places.qpvs_in("13201")


def test_a_postal_code_of_several_communes_lists_them_by_name(places: Places) -> None:
    assert [(c.insee, c.name) for c in places.communes_for("01000")] == [
        ("01053", "Bourg-en-Bresse"),
        ("01344", "Saint-Denis-lès-Bourg"),
    ]
    # Accents aside, as a person reads: "Saint-Éloy" among the S, before "Saint-Julien"; and
    # each commune déléguée of a merged commune on its own.
    assert [c.label for c in places.communes_for("19210")] == [
        "Lubersac",
        "Montgibaud",
        "Saint-Éloy-les-Tuileries",
        "Saint-Julien-le-Vendômois",
        "Saint-Martin-Sepert (Les Trois-Saints)",
        "Saint-Pardoux-Corbier (Les Trois-Saints)",
    ]


@pytest.mark.parametrize("postal_code", ["93999", "00000", "9238", "923900", "", "2A004"])
def test_a_postal_code_that_does_not_exist(places: Places, postal_code: str) -> None:
    assert places.communes_for(postal_code) == ()
    assert not places.postal_code_exists(postal_code)


def test_a_commune_without_district_in_a_department_with_data(places: Places) -> None:
    [neuilly] = places.communes_for("92200")
    assert neuilly.name == "Neuilly-sur-Seine"
    assert places.has_qpv_data("92")
    assert places.qpvs_in(neuilly.insee) == ()


def test_a_department_without_qpv_data_cannot_say(places: Places) -> None:
    [lyon_1er] = places.communes_for("69001")
    assert lyon_1er.insee == "69381"
    assert not places.has_qpv_data("69")
    assert places.qpvs_in("69381") is None
    assert places.qpvs_in("69123") is None
    [bourg, _] = places.communes_for("01000")
    assert places.qpvs_in(bourg.insee) is None


def test_the_qpv_data_cover_ile_de_france_and_the_bouches_du_rhone(places: Places) -> None:
    covered = ["75", "77", "78", "91", "92", "93", "94", "95", "13"]
    assert all(places.has_qpv_data(department) for department in covered)
    assert places.counts()["departments with QPV data"] == len(covered)


def test_an_unknown_commune_is_none(places: Places) -> None:
    assert places.commune("92999") is None
    assert places.qpvs_in("92999") is None


@pytest.mark.parametrize(
    ("department", "name"),
    [("2A", "Corse-du-Sud"), ("2B", "Haute-Corse"), ("971", "Guadeloupe"), ("976", "Mayotte")],
)
def test_every_department_has_its_official_name(places: Places, department: str, name: str) -> None:
    assert places.department_name(department) == name


def test_every_commune_is_in_a_named_department(places: Places) -> None:
    communes = [
        c for code in ("20000", "97100", "97200", "98800") for c in places.communes_for(code)
    ]
    assert {c.department for c in communes} == {"2A", "971", "972", "988"}
    assert places.department_name("99") is None


def test_the_data_files_travel_in_the_wheel() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["flows"]
    shipped = [path.relative_to(PLACES_DIR.parent.parent) for path in PLACES_DIR.iterdir()]
    assert {"places.json", "departements.json"} <= {path.name for path in shipped}
    for path in shipped:
        assert any(fnmatch.fnmatch(path.as_posix(), pattern) for pattern in patterns), path
