"""Plain language in the message catalogue: short sentences, and no jargon left unexplained.

The people who read these texts are young, on a phone, some with a disability or little French
(issue #17). Two checks, on the French source (flows/data/messages.yaml) and, for sentence
length, on the current English translations as well:

- every sentence is short (see the limits below);
- an acronym or an administrative word is either avoided or said in plain words in the same
  message (a glossary: the term, and the words that must come with it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from babel.messages.pofile import read_po

from flows.i18n import LOCALES_DIR, source_messages

# A chat message is read on a phone: 20 words is about three lines at 320 px, and beyond 20
# words French readability guides (and FALC, "facile à lire et à comprendre") see readers with
# low literacy drop off. The privacy notice and the accessibility statement must be complete
# (the law says what they contain), so their sentences may run to 25 words, still short.
CHAT_MAX_WORDS = 20
PAGE_MAX_WORDS = 25
PAGES = ("privacy.", "accessibility.")

# Term → words that must come with it, in the same message, to say it plainly. Acronyms match
# in capitals as whole words; other terms match in any case, at the start of a word.
GLOSSARY: dict[str, str] = {
    "RSA": "revenu de solidarité active",
    "ASS": "fin du chômage",
    "AAH": "handicap",
    "RQTH": "handicap reconnu",
    "ASE": "aide sociale à l'enfance",
    "QPV": "quartier prioritaire",
    "ACI": "accompagnement",
    "IAE": "accompagnement",
    "SIAE": "accompagnement",
    "EA": "handicap",
    "ESAT": "handicap",
    "CEJ": "contrat d'engagement jeune",
    "contrat d'engagement jeune": "accompagnement",
    "CNIL": "protège les données",
    "RGAA": "règles d'accessibilité",
    "audit": "contrôl",
    "lecteur d'écran": "voix haute",
    "Libre réponse": "sans timbre",
}
# Terms no message needs: what to say instead.
AVOID: dict[str, str] = {
    "éligib": "« tu y as droit »",
    "dispositif": "the name of the thing, or what it does",
    "prescripteur": "« la personne qui t'a envoyé·e vers nous »",
    "bénéficiaire": "« tu touches … », « tu as droit à … »",
    "allocataire": "« tu touches … »",
    "Pôle emploi": "« France Travail » (its name since 2024)",
    "insertion": "« un emploi payé, avec un accompagnement »",
    "demandeur d'emploi": "« tu cherches du travail »",
    "jours ouvrés": "« sans compter le week-end »",
    "justificatif": "« un papier qui prouve … »",
    "clôture": "« la fin »",
    "prestataire": "« le service qui … pour nous »",
    "saisir": "« te plaindre à », « écrire à »",
    "ouvre des droits": "« te donne accès à »",
    "ouvrir des droits": "« te donner accès à »",
    "mesure de justice": "« suivi·e par la justice »",
    "critère": "« cette question », « cette condition »",
}
# Capitals that need no explanation: a person recognises their own diploma by its name (CAP,
# BEP, BTS, BUT); CV, SMS, QR, OK and STOP are everyday words; NVDA and VoiceOver are screen
# readers' names, and "lecteur d'écran" is explained; CEDEX is part of a postal address.
EVERYDAY_CAPITALS = frozenset(
    {"CAP", "BEP", "BTS", "BUT", "CV", "SMS", "QR", "OK", "STOP", "NVDA", "CEDEX"}
)


def _pattern(term: str) -> re.Pattern[str]:
    if term.isupper():
        return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)")
    return re.compile(rf"(?<!\w){re.escape(term)}", re.IGNORECASE)


def sentences(text: str) -> Iterator[str]:
    """A text's sentences: cut after . ! ? … and at line breaks."""
    for part in re.split(r"(?<=[.!?…])\s+|\n+", text):
        if part.strip():
            yield part.strip()


def words(sentence: str) -> list[str]:
    """Words as a reader counts them: a {placeholder} is one, an emoji or a dash none."""
    return [token for token in sentence.split() if re.search(r"\w", token)]


def limit(message_id: str) -> int:
    return PAGE_MAX_WORDS if message_id.startswith(PAGES) else CHAT_MAX_WORDS


def long_sentences(messages: dict[str, str]) -> list[str]:
    return [
        f"{message_id} ({len(words(sentence))} words > {limit(message_id)}): {sentence}"
        for message_id, text in messages.items()
        for sentence in sentences(text)
        if len(words(sentence)) > limit(message_id)
    ]


def test_the_checks_themselves_catch_what_they_are_meant_to() -> None:
    assert list(sentences("Salut ! Ça va ? Oui.\nBon… d'accord")) == [
        "Salut !",
        "Ça va ?",
        "Oui.",
        "Bon…",
        "d'accord",
    ]
    assert len(words("Merci {first_name} ! 🙌 Un conseiller te contacte — vite.")) == 7
    too_long = " ".join(["mot"] * (CHAT_MAX_WORDS + 1)) + "."
    assert long_sentences({"x.y": too_long})
    assert not long_sentences({"privacy.y": too_long})
    assert _pattern("ASS").search("L'ASS (aide)")
    assert not _pattern("ASS").search("une classe, ASSEZ")
    assert _pattern("éligib").search("Ton Éligibilité")
    assert not _pattern("insertion").search("réinsertion")  # a different word, judged alone


def test_every_french_sentence_is_short() -> None:
    assert long_sentences(dict(source_messages())) == []


def test_every_current_english_translation_is_short() -> None:
    # Only translations of today's French: a stale one is the catalogue test's business.
    french_by_id = source_messages()
    with (LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="en")
    english = {
        str(message.context): str(message.string)
        for message in catalogue
        if message.context in french_by_id
        and message.string
        and not message.fuzzy
        and message.id == french_by_id[message.context]
    }
    assert len(english) > len(french_by_id) // 2
    assert long_sentences(english) == []


@pytest.mark.parametrize(("term", "explanation"), sorted(GLOSSARY.items()))
def test_jargon_comes_with_its_plain_words(term: str, explanation: str) -> None:
    unexplained = [
        f"{message_id}: {text}"
        for message_id, text in source_messages().items()
        if _pattern(term).search(text) and explanation.casefold() not in text.casefold()
    ]
    assert unexplained == [], f"{term!r} needs {explanation!r} in the same message"


@pytest.mark.parametrize(("term", "instead"), sorted(AVOID.items()))
def test_words_to_avoid_are_avoided(term: str, instead: str) -> None:
    found = [f"{m}: {text}" for m, text in source_messages().items() if _pattern(term).search(text)]
    assert found == [], f"say {instead} instead of {term!r}"


def test_every_acronym_is_explained_or_everyday() -> None:
    known = {term for term in GLOSSARY if term.isupper()} | EVERYDAY_CAPITALS
    unknown = {
        f"{acronym} ({message_id})"
        for message_id, text in source_messages().items()
        for acronym in re.findall(r"(?<!\w)[A-ZÀ-Ý]{2,}(?!\w)", text)
        if acronym not in known
    }
    assert unknown == set(), "explain them in the glossary above, or say them in plain words"
