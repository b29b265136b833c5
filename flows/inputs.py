"""Reading what a person typed: numbers, postal codes, phone numbers, e-mails, choices."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from flows.profile import POSTAL_CODE_PATTERN

MAX_TEXT_LENGTH = 4000
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
_NUMBER = re.compile(r"(\d{1,3})(?:\s*(?:ans?|years?(?: old)?|yo))?\s*[.!]?")
# One space before a number ("1 3"), not a run: \s+ would be tried from every space of a run.
_CHOICES_SEPARATOR = re.compile(r"[,;/]|\bet\b|\band\b|\s(?=\d)")
NONE_WORDS = frozenset({"aucune", "aucun", "rien", "non", "none", "no", "nothing", "0"})
# Words before an answer that change nothing: "j'ai le bac" is "bac", "I have a BTS" is "bts".
_FILLER_WORDS = frozenset(
    {"j", "ai", "le", "la", "l", "un", "une", "mon", "ma", "i", "have", "a", "an", "the", "my"}
)


class InvalidInput(ValueError):
    """The answer cannot be read for this question."""


def fold(text: str) -> str:
    """Lower case without accents or extra spaces, to compare what people type."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w+@.]", " ", plain).split())


def typed_key(text: str) -> str:
    """A typed answer as it is compared with listed words: folded, "bac + 2" as "bac+2", and
    the filler words before it dropped."""
    words = re.sub(r"\s*\+\s*", "+", fold(text)).split()
    while len(words) > 1 and words[0] in _FILLER_WORDS:
        words.pop(0)
    return " ".join(words)


def read_number(text: str, low: int, high: int) -> int:
    """A whole number such as '19', '19 ans' or ' 19. '."""
    # No two runs of spaces side by side: a regular expression would try every way of sharing
    # a long run between them (minutes of CPU for a message of spaces).
    match = _NUMBER.fullmatch(text.strip().casefold())
    if not match:
        raise InvalidInput("not a number")
    value = int(match.group(1))
    if not low <= value <= high:
        raise InvalidInput("out of range")
    return value


def read_postal_code(text: str) -> str:
    """Five digits of a French postal code, spaces allowed ('93 500')."""
    digits = re.sub(r"[\s.]", "", text)
    if not re.match(POSTAL_CODE_PATTERN, digits):
        raise InvalidInput("not a postal code")
    return digits


def read_phone(text: str) -> str:
    """A phone number normalised to E.164: French 06 12 34 56 78 becomes +33612345678."""
    compact = re.sub(r"[\s.\-()/]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if re.fullmatch(r"0[1-9]\d{8}", compact):
        return "+33" + compact[1:]
    if re.fullmatch(r"\+33[1-9]\d{8}", compact):
        return compact
    if re.fullmatch(r"\+(?!33)[1-9]\d{7,14}", compact):
        return compact
    raise InvalidInput("not a phone number")


def read_email(text: str) -> str:
    """An e-mail address, trimmed; the domain part is lower-cased."""
    candidate = text.strip()
    if not _EMAIL.match(candidate) or len(candidate) > 254:
        raise InvalidInput("not an e-mail address")
    local, domain = candidate.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def read_text(text: str, max_length: int) -> str:
    """Free text with at least one letter or digit, control characters removed."""
    cleaned = "".join(c for c in text if unicodedata.category(c)[0] != "C" or c == " ").strip()
    cleaned = " ".join(cleaned.split())
    if not any(c.isalnum() for c in cleaned):
        raise InvalidInput("empty")
    if len(cleaned) > max_length:
        raise InvalidInput("too long")
    return cleaned


def match_choice(
    text: str,
    options: Sequence[tuple[str, str]],
    words: Mapping[str, Iterable[str]] | None = None,
) -> str:
    """The value of the option a person typed: its number, its label, its value, one of its
    listed words ("bac" for a level) or the start of its label."""
    typed = fold(text)
    if typed.isdigit() and 1 <= int(typed) <= len(options):
        return options[int(typed) - 1][0]
    for value, label in options:
        if typed in (fold(label), fold(value)):
            return value
    if words:
        key = typed_key(text)
        named = {value for value, listed in words.items() if key in map(typed_key, listed)}
        if len(named) == 1:
            return named.pop()
    starts = [value for value, label in options if typed and fold(label).startswith(typed)]
    if len(starts) == 1:
        return starts[0]
    raise InvalidInput("not one of the choices")


def match_choices(
    text: str,
    options: Sequence[tuple[str, str]],
    words: Mapping[str, Iterable[str]] | None = None,
    none_label: str | None = None,
) -> list[str]:
    """Several options typed as '1, 3' or labels separated by commas; 'aucune', '0' or the
    question's own label for none ("Rien de particulier") mean none."""
    typed = fold(text).rstrip(".!")
    if typed in NONE_WORDS or (none_label is not None and typed == fold(none_label)):
        return []
    parts = [part for part in _CHOICES_SEPARATOR.split(text) if part.strip()]
    if not parts:
        raise InvalidInput("empty")
    values = [match_choice(part, options, words) for part in parts]
    return sorted(set(values), key=values.index)
