"""``aiguillage places build`` regenerates the shipped place data; ``places check`` shows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.places import PLACES_DIR, Commune, Qpv, load_places
from tests.auxil.paths import ROOT
from webhook.cli import main

# The official files, in the shared folder beside the repository.
OFFICIAL = ROOT.parent / "shared" / "data" / "geo"
POSTAL_CODES = """\
postal_code;insee_code;commune_name
01000;01053;Bourg-en-Bresse
01000;01344;Saint-Denis-lès-Bourg
75001;75101;Paris 1er Arrondissement
92390;92078;Villeneuve-la-Garenne
93200;93066;Saint-Denis
93380;93066;Saint-Denis
"""
DELEGATED = """\
postal_code;insee_code;commune_name;old_insee_code;old_commune_name;old_type;\
postal_code_confirmed_by_laposte_2026
93380;93066;Saint-Denis;93059;Pierrefitte-sur-Seine;commune-deleguee;yes
"""
QPVS = """\
code;name;department;insee_codes;commune_names
QN09215M;Cap Villeneuve;92;92078;Villeneuve-la-Garenne
QN07599Z;Quartier de Paris;75;75056;Paris
"""
README = "From npm package `@etalab/decoupage-administratif` 6.0.0 (published 2026-04-09).\n"
DEPARTMENTS = [
    {"code": "01", "nom": "Ain"},
    {"code": "75", "nom": "Paris"},
    {"code": "92", "nom": "Hauts-de-Seine"},
    {"code": "93", "nom": "Seine-Saint-Denis"},
]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def official_folder(folder: Path, **replaced: str) -> Path:
    """A small folder of official files; ``replaced`` overrides a file's text by its name."""
    folder.mkdir()
    files = {
        "postal_codes.csv": POSTAL_CODES,
        "postal_codes_communes_deleguees.csv": DELEGATED,
        "qpv_2024_idf.csv": QPVS,
        "README.md": README,
    }
    for name, text in (files | {k.replace("__", "."): v for k, v in replaced.items()}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def npm_package(folder: Path, communes: list[dict[str, object]]) -> Path:
    """An extracted @etalab/decoupage-administratif of version 7.0.0, as npm would leave it."""
    (folder / "data").mkdir(parents=True)
    manifest = {"name": "@etalab/decoupage-administratif", "version": "7.0.0"}
    (folder / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "data" / "communes.json").write_text(json.dumps(communes), encoding="utf-8")
    (folder / "data" / "departements.json").write_text(json.dumps(DEPARTMENTS), encoding="utf-8")
    return folder


def commune(code: str, name: str, postal_codes: list[str], **more: str) -> dict[str, object]:
    kind = "arrondissement-municipal" if code == "75101" else "commune-actuelle"
    return (
        {"code": code, "nom": name, "type": kind, "departement": code[:2]}
        | {"codesPostaux": postal_codes}
        | more
    )


NPM_COMMUNES = [
    commune("01053", "Bourg-en-Bresse", ["01000"]),
    commune("01344", "Saint-Denis-lès-Bourg", ["01000"]),
    commune("75056", "Paris", ["75001"]),
    commune("75101", "Paris 1er Arrondissement", ["75001"], commune="75056"),
    commune("92078", "Villeneuve-la-Garenne", ["92390"]),
    commune("93066", "Saint-Denis", ["93200", "93380"]),
    {"code": "93059", "nom": "Pierrefitte-sur-Seine", "type": "commune-deleguee"},
]


def test_the_shipped_data_are_what_the_official_files_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        ["places", "build", "--from", str(OFFICIAL), "--to", str(tmp_path)], capsys
    )
    assert status == 0, err
    for name in ("places.json", "departements.json"):
        assert (tmp_path / name).read_bytes() == (PLACES_DIR / name).read_bytes(), name
    assert "version: @etalab/decoupage-administratif 6.0.0 (2026-04-09); QPV 2024 (ANCT)" in out


def test_check_prints_the_version_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["places", "check"], capsys)
    assert status == 0
    assert out.splitlines() == [
        "version: @etalab/decoupage-administratif 6.0.0 (2026-04-09); QPV 2024 (ANCT)",
        "licence: Licence Ouverte / Etalab 2.0",
        "postal codes: 6310",
        "communes: 35006",
        "postal codes of communes déléguées: 46",
        "departments: 109",
        "departments with QPV data: 9",
        "QPVs: 369",
    ]


def test_a_build_from_small_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = official_folder(tmp_path / "geo")
    status, _, err = run(["places", "build", "--from", str(source), "--to", str(tmp_path)], capsys)
    assert status == 0, err
    places = load_places(tmp_path)
    assert places.communes_for("93380") == (
        Commune("93066", "Saint-Denis", "93", delegated="Pierrefitte-sur-Seine"),
    )
    assert places.qpvs_in("75101") == (Qpv("QN07599Z", "Quartier de Paris"),)
    # The departments the QPV file covers are those it lists.
    assert places.qpvs_in("93066") is None
    assert not places.has_qpv_data("93")


def test_a_build_from_the_npm_package_reads_its_communes_and_departments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The package's postal codes are read, not the CSV's.
    source = official_folder(tmp_path / "geo", postal_codes__csv="nothing;here\n")
    package = npm_package(tmp_path / "package", NPM_COMMUNES)
    argv = ["places", "build", "--from", str(source), "--npm-package", str(package)]
    argv += ["--released", "2027-04-02", "--to", str(tmp_path / "out")]
    status, out, err = run(argv, capsys)
    assert status == 0, err
    assert "version: @etalab/decoupage-administratif 7.0.0 (2027-04-02); QPV 2024 (ANCT)" in out
    places = load_places(tmp_path / "out")
    assert [c.name for c in places.communes_for("01000")] == [
        "Bourg-en-Bresse",
        "Saint-Denis-lès-Bourg",
    ]
    assert places.communes_for("75001") == (Commune("75101", "Paris 1er Arrondissement", "75"),)
    assert places.communes_for("93380")[0].label == "Pierrefitte-sur-Seine (Saint-Denis)"
    assert places.department_name("93") == "Seine-Saint-Denis"
    assert places.counts()["departments"] == len(DEPARTMENTS)


@pytest.mark.parametrize(
    ("replaced", "error"),
    [
        (
            {"postal_codes__csv": "postal_code;insee_code;commune_name\n9239;92078;Villeneuve\n"},
            "postal_codes.csv line 2: '9239' is not a postal code (five digits)",
        ),
        (
            {"postal_codes__csv": "code;insee\n"},
            "postal_codes.csv: no column postal_code, insee_code, commune_name in its first line",
        ),
        (
            {"postal_codes__csv": POSTAL_CODES + "92390;92078;Villeneuve-la-Garenne (92)\n"},
            "commune 92078 is named both 'Villeneuve-la-Garenne' and 'Villeneuve-la-Garenne (92)'",
        ),
        (
            {"postal_codes_communes_deleguees__csv": DELEGATED.replace("93380;", "93390;")},
            "postal_codes_communes_deleguees.csv line 2: 93390 → 93066 is not in the postal codes",
        ),
        (
            {"qpv_2024_idf__csv": QPVS + "QN09399Z;Ailleurs;93;93999;Nulle part\n"},
            "qpv_2024_idf.csv line 4: QPV QN09399Z lists '93999', no current commune",
        ),
        (
            {"README__md": "No release named here.\n"},
            "README.md: does not say which @etalab/decoupage-administratif release"
            " postal_codes.csv is of",
        ),
    ],
)
def test_a_build_names_the_first_problem_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], replaced: dict[str, str], error: str
) -> None:
    source = official_folder(tmp_path / "geo", **replaced)
    status, out, err = run(
        ["places", "build", "--from", str(source), "--to", str(tmp_path)], capsys
    )
    assert status == 2
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("aiguillage places: ")
    assert line.endswith(error)
    assert not (tmp_path / "places.json").exists()


def test_a_build_refuses_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = official_folder(tmp_path / "geo")
    (source / "qpv_2024_idf.csv").unlink()
    status, _, err = run(["places", "build", "--from", str(source), "--to", str(tmp_path)], capsys)
    assert status == 2
    missing = source / "qpv_2024_idf.csv"
    assert err == f"aiguillage places: {missing}: cannot read: No such file or directory\n"


def test_a_newer_package_needs_its_publication_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = official_folder(tmp_path / "geo")
    package = npm_package(tmp_path / "package", NPM_COMMUNES)
    argv = ["places", "build", "--from", str(source), "--npm-package", str(package)]
    status, _, err = run([*argv, "--to", str(tmp_path)], capsys)
    assert status == 2
    assert err == (
        "aiguillage places: give --released: the date @etalab/decoupage-administratif 7.0.0"
        " was published\n"
    )
    status, _, err = run([*argv, "--released", "April 2027", "--to", str(tmp_path)], capsys)
    assert (status, err) == (
        2,
        "aiguillage places: --released 'April 2027' is not a date (YYYY-MM-DD)\n",
    )


def test_a_package_whose_commune_changed_department_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = official_folder(tmp_path / "geo")
    moved = [*NPM_COMMUNES, commune("02285", "Escaufourt", ["59360"], departement="59")]
    package = npm_package(tmp_path / "package", moved)
    argv = ["places", "build", "--from", str(source), "--npm-package", str(package)]
    status, _, err = run([*argv, "--released", "2027-04-02", "--to", str(tmp_path)], capsys)
    assert status == 2
    assert err.endswith("communes.json: commune 02285 is in department 59\n")


def test_check_refuses_a_folder_without_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["places", "check", "--dir", str(tmp_path)], capsys)
    assert (status, out) == (2, "")
    assert err == (
        f"aiguillage places: {tmp_path / 'places.json'}: cannot read: No such file or directory\n"
    )
