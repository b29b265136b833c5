"""The programme and site catalogue, loaded from editable data and validated at load."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows.places import default_places
from flows.profile import DiplomaLevel, Interest, Situation

DATA_DIR = Path(__file__).parent / "data"
CATALOGUE_PATH = DATA_DIR / "catalogue.yaml"

ProgrammeId = Literal["ecole_du_web", "fabrique_numerique", "insertion_jobs", "children_workshops"]
PROGRAMME_IDS: tuple[ProgrammeId, ...] = (
    "ecole_du_web",
    "fabrique_numerique",
    "insertion_jobs",
    "children_workshops",
)
BringItem = Literal["id_document", "cv", "france_travail_number", "vitale_card", "proof_of_address"]
SiteStatus = Literal["open", "opening", "partner"]
Department = Annotated[str, Field(pattern=r"^(?:0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6])$")]
# INSEE's code of a commune (Corsica's start 2A or 2B): flows/places.py knows them all.
InseeCode = Annotated[str, Field(pattern=r"^(?:\d{5}|2[AB]\d{3})$")]
AgeLimit = Annotated[int, Field(ge=0, le=120)]


class CatalogueError(ValueError):
    """The catalogue file is unreadable or invalid; the message names every problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IaeRules(_Strict):
    level2_needed: dict[Literal["aci", "ai"], Annotated[int, Field(ge=1, le=14)]]
    jeune_below_age: AgeLimit
    senior_from_age: AgeLimit


class ProgrammeRules(_Strict):
    min_age: AgeLimit | None = None
    max_age: AgeLimit | None = None
    situations: list[Situation] | None = None
    excluded_situations: list[Situation] = Field(default_factory=list)
    max_diploma_level: DiplomaLevel | None = None
    iae_rule: Literal["aci", "ai"] | None = None
    child_min_age: AgeLimit | None = None
    child_max_age: AgeLimit | None = None
    interests: list[Interest] = Field(default_factory=list)
    # What to bring to its information session or first appointment (texts: bring.<item>).
    bring: list[BringItem] = Field(default_factory=list)


class Site(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    name: str
    status: SiteStatus
    programmes: list[ProgrammeId]
    # Where it serves: whole departments, and communes served first (a commune listed by a
    # site goes to that site only, even in a department that another site serves).
    departments: list[Department] = Field(default_factory=list)
    communes: list[InseeCode] = Field(default_factory=list)


class Catalogue(_Strict):
    iae: IaeRules
    programmes: dict[ProgrammeId, ProgrammeRules]
    digital_consent_age: AgeLimit
    sites: list[Site]

    @model_validator(mode="after")
    def _complete(self) -> Catalogue:
        missing = [p for p in PROGRAMME_IDS if p not in self.programmes]
        if missing:
            raise ValueError(f"programmes missing: {', '.join(missing)}")
        ids = [site.id for site in self.sites]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"site ids used twice: {', '.join(duplicated)}")
        places = default_places()
        unknown = [
            f"{site.id}: {code}"
            for site in self.sites
            for code in site.communes
            if places.commune(code) is None
        ]
        if unknown:
            raise ValueError(f"communes that do not exist (INSEE codes): {', '.join(unknown)}")
        return self

    def site(self, site_id: str) -> Site:
        """The site with this id (KeyError if unknown)."""
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)

    def sites_for(self, postal_code: str | None) -> list[str]:
        """Ids of the sites serving a postal code's communes: those that list one of them
        first, else those of their department."""
        if postal_code is None:
            return []
        communes = default_places().communes_for(postal_code)
        codes = {commune.insee for commune in communes}
        exact = [s.id for s in self.sites if codes.intersection(s.communes)]
        if exact:
            return exact
        departments = {commune.department for commune in communes} or {_department(postal_code)}
        return [s.id for s in self.sites if departments.intersection(s.departments)]


def _department(postal_code: str) -> str:
    """The department a postal code's shape suggests (for a code the data does not know)."""
    if postal_code.startswith("20"):  # Corsica: 2A below 20200, 2B from it
        return "2A" if postal_code < "20200" else "2B"
    return postal_code[:3] if postal_code.startswith("97") else postal_code[:2]


def parse_catalogue(text: str, *, source: str = "catalogue") -> Catalogue:
    """Validate catalogue YAML text; every problem is named in one CatalogueError."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{source}: not valid YAML: {error}") from error
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'top level'}: {e['msg']}"
            for e in error.errors()
        )
        raise CatalogueError(f"{source}: {problems}") from error


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read and validate a catalogue file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogueError(f"{path}: cannot read: {error.strerror}") from error
    return parse_catalogue(text, source=str(path))


@cache
def default_catalogue() -> Catalogue:
    """The catalogue shipped in flows/data, loaded once per process."""
    return load_catalogue()
