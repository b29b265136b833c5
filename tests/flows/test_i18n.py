"""Catalogues are current and complete: every French text has an English translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from flows.i18n import LOCALES_DIR, gettext, parse_language, placeholders, source_messages, text

ROOT = Path(__file__).resolve().parents[2]


def _catalog(language: str):  # type: ignore[no-untyped-def]
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def test_catalogues_are_not_stale(tmp_path: Path) -> None:
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "--no-location",
            "--omit-header",
            "-k",
            "pgettext:1c,2",
            "-k",
            "N_",
            "-o",
            str(template),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as handle:
        extracted = {(m.context, m.id) for m in read_po(handle) if m.id}
    for language in ("fr", "en"):
        catalogued = {(m.context, m.id) for m in _catalog(language) if m.id}
        assert extracted - catalogued == set(), f"run `make i18n`: {language} lacks new texts"
        assert catalogued - extracted == set(), f"run `make i18n`: {language} has obsolete texts"


def test_every_french_message_has_an_english_translation() -> None:
    untranslated = [m.context or m.id for m in _catalog("en") if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_translations_keep_the_placeholders() -> None:
    for message in _catalog("en"):
        if message.id and message.string:
            assert placeholders(str(message.string)) == placeholders(str(message.id)), (
                message.context
            )


def test_texts_are_translated_and_filled() -> None:
    assert text("reason.too_young", "fr", min_age=18) == "Ce parcours commence à 18 ans."
    assert text("reason.too_young", "en", min_age=18) == "This programme starts at age 18."
    assert gettext("texte inconnu", "en") == "texte inconnu"
    assert len(source_messages()) > 10


@pytest.mark.parametrize(
    ("tag", "language"),
    [("en-GB", "en"), ("EN", "en"), ("fr_FR", "fr"), ("de", "fr"), (None, "fr"), ("", "fr")],
)
def test_language_tags_fall_back_to_french(tag: str | None, language: str) -> None:
    assert parse_language(tag) == language
