"""An SMS's text: the STOP notice at its end, and kept to the GSM alphabet when it can be.

An SMS in the GSM 7-bit alphabet holds 160 characters (153 per part once split); a single
character outside it (ê, ç, a curly apostrophe) sends the whole text as Unicode, 70 (67)
characters a part: two to three times the price. French letters the alphabet lacks lose
their accent instead (ê → e), as French SMS usually do; only what has no plain form (an
emoji) makes the text Unicode.
"""

from __future__ import annotations

import math
import unicodedata

from flows.i18n import Language, text

STOP_NOTICE = "sms.stop_notice"
# GSM 03.38's basic set, and its extension (each of those counts as two characters).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("^{}\\[~]|€")
_PLAIN = {
    "\u2019": "'",  # ’
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "«": '"',
    "»": '"',
    "\u00a0": " ",  # no-break spaces, as French typography puts before : ; ? !
    "\u202f": " ",
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "·": ".",  # inscrit·e
    "œ": "oe",
    "Œ": "OE",
}


def with_stop_notice(body: str, language: Language) -> str:
    """The text as sent: the body, then how to stop SMS (every SMS ends with it)."""
    return f"{body.rstrip()}\n{text(STOP_NOTICE, language)}"


def gsm_text(content: str) -> tuple[str, bool]:
    """The text in the GSM alphabet where it can be; and whether it must go as Unicode."""
    plain = "".join(_plain(character) for character in content)
    return plain, not all(c in _GSM_BASIC or c in _GSM_EXTENSION for c in plain)


def _plain(character: str) -> str:
    if character in _GSM_BASIC or character in _GSM_EXTENSION:
        return character
    if character in _PLAIN:
        return _PLAIN[character]
    # ê → e + circumflex: keep the letter when it is in the alphabet.
    base = unicodedata.normalize("NFD", character)[0]
    return base if base in _GSM_BASIC else character


def parts(content: str, *, unicode: bool) -> int:
    """How many SMS the text is billed as (one up to 160 GSM or 70 Unicode characters)."""
    if unicode:
        length = len(content.encode("utf-16-le")) // 2
        return 1 if length <= 70 else math.ceil(length / 67)
    length = sum(2 if c in _GSM_EXTENSION else 1 for c in content)
    return 1 if length <= 160 else math.ceil(length / 153)
