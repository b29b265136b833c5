"""``aiguillage places``: regenerate the shipped place data from the official files
(webhook/cli/_places_build.py), or check them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from flows.places import (
    DEPARTMENTS_FILE,
    PLACES_DIR,
    PLACES_FILE,
    Places,
    PlacesError,
    load_places,
)
from webhook.cli._errors import CliError
from webhook.cli._output import emit
from webhook.cli._places_build import DELEGATED, PACKAGE, POSTAL_CODES, QPVS, build


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="places_action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="regenerate the place data from the official files")
    build.add_argument(
        "--from",
        dest="source",
        type=Path,
        required=True,
        metavar="DIR",
        help=f"folder of {POSTAL_CODES}, {DELEGATED} and {QPVS} (../shared/data/geo)",
    )
    build.add_argument(
        "--npm-package",
        type=Path,
        metavar="DIR",
        help=f"an extracted {PACKAGE}: postal codes and departments read from its data/",
    )
    build.add_argument(
        "--released",
        metavar="YYYY-MM-DD",
        help=f"when that {PACKAGE} release was published (default: as DIR/README.md says)",
    )
    build.add_argument(
        "--to", type=Path, default=PLACES_DIR, help="where to write (default: flows/data/places)"
    )
    check = actions.add_parser("check", help="print the place data's version and counts")
    check.add_argument("--dir", type=Path, default=PLACES_DIR, help="default: the shipped data")
    build.set_defaults(handler=run_build)
    check.set_defaults(handler=run_check)


def _write(path: Path, content: bytes) -> None:
    """Replace a file at once: a reader never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def _report(places: Places) -> None:
    emit(f"version: {places.version}")
    emit(f"licence: {places.licence}")
    for what, count in places.counts().items():
        emit(f"{what}: {count}")


def run_build(args: argparse.Namespace) -> int:
    package: Path | None = args.npm_package
    places_text, departments = build(args.source, package, args.released)
    target: Path = args.to
    try:
        target.mkdir(parents=True, exist_ok=True)
        _write(target / PLACES_FILE, places_text.encode("utf-8"))
        _write(target / DEPARTMENTS_FILE, departments)
    except OSError as error:
        raise CliError(f"{error.filename}: cannot write: {error.strerror}") from None
    emit(f"wrote {target / PLACES_FILE} and {target / DEPARTMENTS_FILE}")
    run_check(argparse.Namespace(dir=target))
    return 0


def run_check(args: argparse.Namespace) -> int:
    try:
        places = load_places(args.dir)
    except PlacesError as error:
        raise CliError(str(error)) from None
    _report(places)
    return 0
