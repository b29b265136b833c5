"""One translation setup for every channel: French source texts, Babel catalogues per language.

User-facing wording lives in ``flows/data/messages.yaml`` (French, keyed by a message id).
Catalogues in ``locales/<lang>/LC_MESSAGES/messages.po`` translate it with the message id as
context (``msgctxt``) and the French text as ``msgid``, so translators always see the source.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal, get_args

import yaml
from babel.messages.pofile import read_po

from flows.catalogue import DATA_DIR

Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
SOURCE_LANGUAGE: Language = "fr"
# A link to the top-level locales/ in a checkout, a copy of it in an installed package.
LOCALES_DIR = Path(__file__).parent / "locales"
MESSAGES_PATH = DATA_DIR / "messages.yaml"


class UnknownMessageError(KeyError):
    """A message id has no French text in messages.yaml."""


def parse_language(value: str | None) -> Language:
    """The supported language closest to a tag such as ``en-GB``; French otherwise."""
    if value:
        primary = value.strip().lower().replace("_", "-").split("-")[0]
        for language in LANGUAGES:
            if primary == language:
                return language
    return SOURCE_LANGUAGE


@cache
def source_messages() -> Mapping[str, str]:
    """French text of every message id."""
    raw = yaml.safe_load(MESSAGES_PATH.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{MESSAGES_PATH}: expected a mapping of message id to French text")
    return {str(key): str(value) for key, value in raw.items()}


@cache
def _catalogue(language: Language) -> Mapping[tuple[str | None, str], str]:
    """(context, French msgid) → translation, for non-fuzzy, non-empty entries."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == SOURCE_LANGUAGE or not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {
        (message.context, str(message.id)): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def N_(french: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Mark a French text for the catalogues where it is defined; translated where shown."""
    return french


def gettext(french: str, language: Language) -> str:
    """Translate a French source string (templates and code) into a language."""
    return _catalogue(language).get((None, french), french)


def text(message_id: str, language: Language, /, **params: object) -> str:
    """The text of a message id in a language, with its ``{placeholders}`` filled."""
    try:
        french = source_messages()[message_id]
    except KeyError as error:
        raise UnknownMessageError(message_id) from error
    template = _catalogue(language).get((message_id, french), french)
    if not placeholders(template):
        return template
    # A parameter a channel did not provide shows as nothing rather than failing the reply.
    return template.format_map(_Blank(params))


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


@lru_cache(maxsize=4096)
def placeholders(template: str) -> frozenset[str]:
    """Names of the ``{placeholders}`` in a message template (parsed once per template)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
