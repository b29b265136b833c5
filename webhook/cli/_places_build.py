"""Building the shipped place data (flows/data/places) from the official files.

It reads the folder of official files (../shared/data/geo/: postal codes, communes déléguées,
QPVs) and, when given, an extracted ``@etalab/decoupage-administratif`` package, whose
data/communes.json and data/departements.json it then reads directly. What it reads is checked
(the first problem stops it, named in one line) and the same files always give the same bytes,
so a refresh shows as a readable diff.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flows.places import (
    CITIES_WITH_ARRONDISSEMENTS,
    CITY_OF_ARRONDISSEMENT,
    DEPARTMENTS_FILE,
    FORMAT,
    PLACES_DIR,
    department_of,
)
from webhook.cli._errors import CliError

PACKAGE = "@etalab/decoupage-administratif"
POSTAL_CODES = "postal_codes.csv"
DELEGATED = "postal_codes_communes_deleguees.csv"
QPVS = "qpv_2024_idf.csv"
QPV_LIST = "QPV 2024 (ANCT)"
LICENCE = "Licence Ouverte / Etalab 2.0"
POSTAL_CODE = re.compile(r"\d{5}")
INSEE_CODE = re.compile(r"\d[\dAB]\d{3}")
# The official folder's README names the release its postal codes were taken from.
RELEASE_IN_README = re.compile(
    rf"`?{PACKAGE}`?\s+(\d+\.\d+\.\d+)\s+\(published\s+(\d{{4}}-\d{{2}}-\d{{2}})"
)
Row = tuple[str, str, str]  # postal code, INSEE code, commune name


@dataclass(frozen=True)
class Release:
    """Which release of the State's package the postal codes come from, and when it came out."""

    version: str
    published: str


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CliError(f"{path}: cannot read: {error.strerror}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_bytes(path))
    except ValueError as error:
        raise CliError(f"{path}: not valid JSON: {error}") from None


def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """Each row of a `;`-separated file as ("file line N", row), its columns checked first."""
    try:
        text = _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    missing = [column for column in columns if column not in (reader.fieldnames or ())]
    if missing:
        raise CliError(f"{path}: no column {', '.join(missing)} in its first line")
    for row in reader:
        yield f"{path.name} line {reader.line_num}", {key: row[key] or "" for key in columns}


def _checked(where: str, what: str, value: object, shape: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not shape.fullmatch(value):
        raise CliError(f"{where}: {value!r} is not {what}")
    return value


def _postal_code(where: str, value: object) -> str:
    return _checked(where, "a postal code (five digits)", value, POSTAL_CODE)


def _insee_code(where: str, value: object) -> str:
    return _checked(where, "an INSEE code (five characters: 92078, 2A004)", value, INSEE_CODE)


def rows_from_csv(source: Path) -> list[Row]:
    columns = ("postal_code", "insee_code", "commune_name")
    return [
        (
            _postal_code(where, row["postal_code"]),
            _insee_code(where, row["insee_code"]),
            row["commune_name"],
        )
        for where, row in _csv_rows(source / POSTAL_CODES, columns)
    ]


def rows_from_package(package: Path) -> list[Row]:
    """Every postal code of each current commune and arrondissement, as postal_codes.csv has."""
    path = package / "data" / "communes.json"
    rows: list[Row] = []
    for entry in _read_json(path):
        if not isinstance(entry, dict):
            raise CliError(f"{path}: {entry!r} is not a commune")
        kind, insee, name = entry.get("type"), entry.get("code"), entry.get("nom")
        if kind not in ("commune-actuelle", "arrondissement-municipal"):
            continue  # a former commune (déléguée, associée): no postal code of its own
        insee = _insee_code(f"{path}: {name}", insee)
        if kind == "arrondissement-municipal":
            if entry.get("commune") != CITY_OF_ARRONDISSEMENT.get(insee):
                raise CliError(f"{path}: {insee} is not an arrondissement flows/places.py knows")
        elif insee in CITIES_WITH_ARRONDISSEMENTS:
            if name != CITIES_WITH_ARRONDISSEMENTS[insee][0]:
                raise CliError(f"{path}: {insee} is named {name!r} now")
            continue  # its postal codes are its arrondissements'
        if entry.get("departement") != department_of(insee):
            raise CliError(f"{path}: commune {insee} is in department {entry.get('departement')}")
        for postal_code in entry.get("codesPostaux", ()):
            rows.append((_postal_code(f"{path}: {insee}", postal_code), insee, str(name)))
    return rows


def release_of(source: Path, package: Path | None, released: str | None) -> Release:
    """The package's version (its package.json, else DIR/README.md) and publication date."""
    readme = source / "README.md"
    said = RELEASE_IN_README.search(readme.read_text("utf-8")) if readme.is_file() else None
    if package is not None:
        manifest = _read_json(package / "package.json")
        if manifest.get("name") != PACKAGE:
            raise CliError(f"{package / 'package.json'}: not {PACKAGE}")
        version = str(manifest.get("version"))
    elif said is None:
        raise CliError(f"{readme}: does not say which {PACKAGE} release {POSTAL_CODES} is of")
    else:
        version = said[1]
    if released is None:
        if said is None or said[1] != version:
            raise CliError(f"give --released: the date {PACKAGE} {version} was published")
        released = said[2]
    try:
        date.fromisoformat(released)
    except ValueError:
        raise CliError(f"--released {released!r} is not a date (YYYY-MM-DD)") from None
    return Release(version, released)


def postal_data(rows: list[Row]) -> tuple[dict[str, str], dict[str, str]]:
    """INSEE code → name, and postal code → its communes' INSEE codes, space-separated (one
    string each reads four times faster than a list: flows/places.py splits it when asked)."""
    names: dict[str, str] = {}
    postal_codes: dict[str, set[str]] = {}
    for postal_code, insee, name in rows:
        if not name:
            raise CliError(f"commune {insee} has no name")
        if names.setdefault(insee, name) != name:
            raise CliError(f"commune {insee} is named both {names[insee]!r} and {name!r}")
        postal_codes.setdefault(postal_code, set()).add(insee)
    communes = {insee: names[insee] for insee in sorted(names)}
    return communes, {code: " ".join(sorted(postal_codes[code])) for code in sorted(postal_codes)}


def delegated_data(
    source: Path, communes: dict[str, str], postal_codes: dict[str, str]
) -> dict[str, dict[str, list[str]]]:
    """Postal code → INSEE code of the commune nouvelle → its communes déléguées there."""
    columns = ("postal_code", "insee_code", "commune_name", "old_commune_name")
    delegated: dict[str, dict[str, set[str]]] = {}
    for where, row in _csv_rows(source / DELEGATED, columns):
        postal_code, insee = row["postal_code"], row["insee_code"]
        if insee not in postal_codes.get(postal_code, "").split():
            raise CliError(f"{where}: {postal_code} → {insee} is not in the postal codes")
        if communes[insee] != row["commune_name"]:
            raise CliError(f"{where}: {insee} is {communes[insee]!r}, not {row['commune_name']!r}")
        delegated.setdefault(postal_code, {}).setdefault(insee, set()).add(row["old_commune_name"])
    return {
        code: {insee: sorted(olds) for insee, olds in sorted(delegated[code].items())}
        for code in sorted(delegated)
    }


def qpv_data(source: Path, communes: dict[str, str]) -> tuple[list[str], dict[str, Any]]:
    """The departments the QPV list covers, and QPV code → [name, its communes' INSEE codes]."""
    columns = ("code", "name", "department", "insee_codes")
    qpvs: dict[str, Any] = {}
    departments: set[str] = set()
    for where, row in _csv_rows(source / QPVS, columns):
        code, codes = row["code"], row["insee_codes"].split("|")
        for insee in codes:
            if insee not in communes and insee not in CITIES_WITH_ARRONDISSEMENTS:
                raise CliError(f"{where}: QPV {code} lists {insee!r}, no current commune")
            if department_of(insee) != row["department"]:
                raise CliError(f"{where}: QPV {code} lists {insee}, not in {row['department']}")
        if code in qpvs or not row["name"]:
            raise CliError(f"{where}: QPV {code!r} is listed twice or has no name")
        qpvs[code] = [row["name"], sorted(codes)]
        departments.add(row["department"])
    return sorted(departments), {code: qpvs[code] for code in sorted(qpvs)}


def departments_text(package: Path | None, communes: dict[str, str]) -> bytes:
    """departements.json as published (the package's, else the one shipped), checked to name
    every department of the communes."""
    path = (package / "data" if package else PLACES_DIR) / DEPARTMENTS_FILE
    text = _read_bytes(path)
    try:
        names = {entry["code"]: entry["nom"] for entry in json.loads(text)}
    except (ValueError, TypeError, KeyError):
        raise CliError(f"{path}: not a list of departments with code and nom") from None
    unnamed = sorted({department_of(insee) for insee in communes} - names.keys())
    if unnamed:
        raise CliError(f"{path}: no department {', '.join(unnamed)}")
    return text


def _json_line(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def render(data: dict[str, Any]) -> str:
    """JSON with one entry of each mapping per line: a yearly refresh reads as a diff."""
    parts = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            entries = ",\n".join(f"{_json_line(k)}: {_json_line(v)}" for k, v in value.items())
            parts.append(f"{_json_line(key)}: {{\n{entries}\n}}")
        else:
            parts.append(f"{_json_line(key)}: {_json_line(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def build(source: Path, package: Path | None, released: str | None) -> tuple[str, bytes]:
    """places.json's text and departements.json's bytes, from the official files."""
    release = release_of(source, package, released)
    rows = rows_from_package(package) if package else rows_from_csv(source)
    communes, postal_codes = postal_data(rows)
    delegated = delegated_data(source, communes, postal_codes)
    qpv_departments, qpvs = qpv_data(source, communes)
    published = f"npm {PACKAGE} {release.version} (published {release.published})"
    provenance = {
        "version": f"{PACKAGE} {release.version} ({release.published}); {QPV_LIST}",
        "licence": LICENCE,
        "postal_codes": "La Poste's base officielle des codes postaux and INSEE's Code officiel"
        f" géographique, as {published} gives them in data/communes.json",
        "communes_deleguees": f"{DELEGATED}: communes déléguées of recent mergers (INSEE's"
        " COG) with their postal codes (npm codes-postaux, Base Adresse Nationale)",
        "qpv": f"{QPVS}: the 2024 QPV list (décret 2023-1314), from the ANCT's open files",
        "departments": f"{DEPARTMENTS_FILE}: data/departements.json of npm {PACKAGE}, as published",
    }
    data = {
        "format": FORMAT,
        "provenance": provenance,
        "qpv_departments": qpv_departments,
        "communes": communes,
        "postal_codes": postal_codes,
        "delegated": delegated,
        "qpvs": qpvs,
    }
    return render(data), departments_text(package, communes)
