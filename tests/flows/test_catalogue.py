"""The catalogue is data PôleS staff can edit; mistakes in it are named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.catalogue import CATALOGUE_PATH, CatalogueError, load_catalogue, parse_catalogue
from flows.profile import Profile
from flows.rules import orient


def test_the_shipped_catalogue_is_valid() -> None:
    catalogue = load_catalogue()
    assert {s.status for s in catalogue.sites} == {"open", "opening", "partner"}
    assert catalogue.site("vitry-sur-seine").status == "opening"


def test_staff_can_change_a_minimum_age_without_touching_python() -> None:
    original = "ecole_du_web:\n    min_age: 18"
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    assert original in text
    text = text.replace(original, "ecole_du_web:\n    min_age: 21")
    catalogue = parse_catalogue(text)
    profile = Profile(age=20, situation="job_seeker", diploma_level="4", criteria=["rsa"])
    assert orient(profile).fit_of("ecole_du_web") == "yes"
    assert orient(profile, catalogue=catalogue).fit_of("ecole_du_web") == "no"


def test_staff_can_add_a_site() -> None:
    text = CATALOGUE_PATH.read_text(encoding="utf-8") + (
        "  - id: lyon\n    name: Lyon\n    status: opening\n"
        '    programmes: [ecole_du_web]\n    departments: ["69"]\n'
    )
    profile = Profile(postal_code="69003")
    assert orient(profile, catalogue=parse_catalogue(text)).sites == ["lyon"]


def test_every_problem_of_a_broken_catalogue_is_named() -> None:
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    text = text.replace("status: opening", "status: someday", 1).replace(
        'departments: ["78"]', 'departments: ["7"]'
    )
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text, source="catalogue.yaml")
    message = str(caught.value)
    assert "catalogue.yaml" in message
    assert "sites.4.status" in message
    assert "sites.1.departments.0" in message


def test_unreadable_or_malformed_catalogues_are_reported(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "absent.yaml")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        parse_catalogue("sites: [")


def test_a_site_may_serve_communes_by_their_insee_code() -> None:
    text = CATALOGUE_PATH.read_text(encoding="utf-8") + (
        "  - id: chaville\n    name: Chaville\n    status: opening\n"
        '    programmes: [ecole_du_web]\n    communes: ["92022"]\n'
    )
    catalogue = parse_catalogue(text)
    # Its commune goes to it only; the rest of the department to the department's site.
    assert catalogue.sites_for("92370") == ["chaville"]
    assert catalogue.sites_for("92390") == ["villeneuve-la-garenne"]


def test_a_commune_that_does_not_exist_is_named() -> None:
    text = CATALOGUE_PATH.read_text(encoding="utf-8").replace('"93055"', '"93999"')
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text, source="catalogue.yaml")
    assert "communes that do not exist (INSEE codes): pantin: 93999" in str(caught.value)
