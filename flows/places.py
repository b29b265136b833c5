"""Places from official data: the communes a postal code covers, departments' names, and the
priority districts (QPV, quartiers prioritaires de la politique de la ville) of a commune.

The data ship in flows/data/places/, generated from the State's published files by
``aiguillage places build`` (its README says where they come from and how to refresh them);
this module only reads them, once per process, and answers lookups from memory.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLACES_DIR = Path(__file__).parent / "data" / "places"
PLACES_FILE = "places.json"
# The State's list of departments, copied as published (code, name, region, …).
DEPARTMENTS_FILE = "departements.json"
# What places.json looks like; `places build` writes it, a reader of another refuses it.
FORMAT = 1

# Postal codes of Paris, Marseille and Lyon give arrondissements, which INSEE codes apart from
# their city; the QPV list, and the people who live there, name the city.
CITIES_WITH_ARRONDISSEMENTS: dict[str, tuple[str, range]] = {
    "75056": ("Paris", range(75101, 75121)),
    "13055": ("Marseille", range(13201, 13217)),
    "69123": ("Lyon", range(69381, 69390)),
}
CITY_OF_ARRONDISSEMENT: dict[str, str] = {
    str(arrondissement): city
    for city, (_, arrondissements) in CITIES_WITH_ARRONDISSEMENTS.items()
    for arrondissement in arrondissements
}


class PlacesError(ValueError):
    """The place data are missing or not of the format this code reads."""


@dataclass(frozen=True)
class Commune:
    """A commune (or an arrondissement of Paris, Lyon or Marseille) as the data name it."""

    insee: str
    name: str
    department: str
    # The commune déléguée (a former commune merged into this one) the postal code is of.
    delegated: str | None = None

    @property
    def label(self) -> str:
        """How a person reads it: "Pierrefitte-sur-Seine (Saint-Denis)" when delegated."""
        return f"{self.delegated} ({self.name})" if self.delegated else self.name


@dataclass(frozen=True)
class Qpv:
    """A priority district of the 2024 list."""

    code: str
    name: str


def department_of(insee: str) -> str:
    """The department of a current commune or arrondissement: its code's first two characters,
    three overseas ("97105" → "971"). `places build` checks this against the State's data."""
    return insee[:3] if insee.startswith(("97", "98")) else insee[:2]


def reading_order(text: str) -> str:
    """A sort key in the order a person expects: accents and case aside ("Éragny" with E)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class Places:
    """Lookups over the place data; every answer comes from memory."""

    def __init__(self, data: Mapping[str, Any], departments: Iterable[Mapping[str, Any]]) -> None:
        """``data``: places.json decoded; ``departments``: departements.json decoded."""
        if data.get("format") != FORMAT:
            raise PlacesError(f"{PLACES_FILE}: format {data.get('format')!r}, expected {FORMAT}")
        provenance: Mapping[str, str] = data["provenance"]
        self.version: str = provenance["version"]
        self.licence: str = provenance["licence"]
        self._communes: dict[str, str] = data["communes"]
        # postal code → its communes' INSEE codes, space-separated.
        self._postal_codes: dict[str, str] = data["postal_codes"]
        # postal code → INSEE code → the communes déléguées that postal code is of.
        self._delegated: dict[str, dict[str, list[str]]] = data["delegated"]
        self._departments = {entry["code"]: entry["nom"] for entry in departments}
        self._qpv_departments = frozenset(data["qpv_departments"])
        by_commune: dict[str, list[Qpv]] = {}
        for code, (name, communes) in data["qpvs"].items():
            for insee in communes:
                by_commune.setdefault(insee, []).append(Qpv(code, name))
        self._qpvs = {
            insee: tuple(sorted(qpvs, key=lambda qpv: (reading_order(qpv.name), qpv.code)))
            for insee, qpvs in by_commune.items()
        }
        self._qpv_names: dict[str, str] = {code: name for code, (name, _) in data["qpvs"].items()}

    def communes_for(self, postal_code: str) -> tuple[Commune, ...]:
        """The communes a postal code covers, sorted as a person reads them; () if none.

        A postal code of a commune déléguée gives the commune it merged into, ``delegated`` set.
        """
        codes = self._postal_codes.get(postal_code, "").split()
        delegated = self._delegated.get(postal_code, {})
        found: list[Commune] = []
        for insee in codes:
            name, department = self._communes[insee], department_of(insee)
            former: list[str | None] = [*delegated.get(insee, ())] or [None]
            found.extend(Commune(insee, name, department, old) for old in former)
        if len(found) < 2:
            return tuple(found)
        return tuple(sorted(found, key=lambda c: (reading_order(c.label), c.insee)))

    def commune(self, insee: str) -> Commune | None:
        """A current commune or arrondissement, or Paris, Marseille and Lyon as a whole."""
        name = self._communes.get(insee)
        if name is None and insee in CITIES_WITH_ARRONDISSEMENTS:
            name = CITIES_WITH_ARRONDISSEMENTS[insee][0]
        return None if name is None else Commune(insee, name, department_of(insee))

    def department_name(self, department: str) -> str | None:
        """ "Hauts-de-Seine" for "92"; every department, Corsica's and overseas ones too."""
        return self._departments.get(department)

    def has_qpv_data(self, department: str) -> bool:
        """Whether the QPV list here covers that department (Île-de-France and 13 today)."""
        return department in self._qpv_departments

    def qpvs_in(self, insee: str) -> tuple[Qpv, ...] | None:
        """The QPVs a commune has, () if none; None if the data cannot say (a department the
        QPV list does not cover, or a code that is no current commune). An arrondissement has
        its city's QPVs, which the official list gives for the whole city."""
        known = insee in self._communes or insee in CITIES_WITH_ARRONDISSEMENTS
        if not known or department_of(insee) not in self._qpv_departments:
            return None
        return self._qpvs.get(CITY_OF_ARRONDISSEMENT.get(insee, insee), ())

    def qpv_name(self, code: str) -> str | None:
        """ "Cap Villeneuve" for "QN09215M"; None for a code not in the list."""
        return self._qpv_names.get(code)

    def postal_code_exists(self, postal_code: str) -> bool:
        return postal_code in self._postal_codes

    def counts(self) -> dict[str, int]:
        """How much the data hold, for ``places check`` and whoever refreshes them."""
        return {
            "postal codes": len(self._postal_codes),
            "communes": len(self._communes),
            "postal codes of communes déléguées": len(self._delegated),
            "departments": len(self._departments),
            "departments with QPV data": len(self._qpv_departments),
            "QPVs": len(self._qpv_names),
        }


def load_places(folder: Path = PLACES_DIR) -> Places:
    """Read the place data of a folder (the shipped one by default)."""
    try:
        data = json.loads((folder / PLACES_FILE).read_bytes())
        departments = json.loads((folder / DEPARTMENTS_FILE).read_bytes())
    except OSError as error:
        raise PlacesError(f"{error.filename}: cannot read: {error.strerror}") from error
    except ValueError as error:
        raise PlacesError(f"{folder}: not valid JSON: {error}") from error
    try:
        return Places(data, departments)
    except PlacesError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise PlacesError(f"{folder / PLACES_FILE}: not place data ({error!r})") from error


@functools.cache
def default_places() -> Places:
    """The place data shipped in flows/data/places/, loaded once per process, when first asked."""
    return load_places()
