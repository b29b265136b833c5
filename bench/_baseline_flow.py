"""The scripted conversation both baseline bots hold: the same questions as Aiguillage's start.

Each step asks one question: a choice (an inline keyboard, callback data ``c|<step>|<value>``
as Aiguillage's) or a free text checked by a pattern. The first ten updates of a simulated
person are the same mix as with Aiguillage: /start, two choices, age and postal code typed,
then five choices; the name, the phone and the confirmation come after.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

WELCOME = (
    "Salut ! 👋 Moi c'est l'assistant de la bench.\n\n"
    "En quelques questions (2 minutes), je te dis ce qui peut te correspondre."
)
THANKS = "Merci {first_name} ! Un conseiller te contacte d'ici 3 jours ouvrés."


@dataclass(frozen=True)
class Step:
    """One question: `choices` as (value, label), or a free text matching `pattern`."""

    name: str
    question: str
    choices: tuple[tuple[str, str], ...] = ()
    pattern: str = ""
    invalid: str = ""


STEPS: tuple[Step, ...] = (
    Step("consent", "Je garde tes réponses le temps de ta demande. C'est OK pour toi ?",
         (("yes", "Oui, c'est OK"), ("no", "Non merci"))),
    Step("asker", "C'est pour toi, ou pour ton enfant ?",
         (("self", "Pour moi"), ("parent", "Pour mon enfant"))),
    Step("age", "Quel âge as-tu ?", pattern=r"\d{1,3}",
         invalid="Écris juste l'âge en chiffres, par exemple 19."),
    Step("postal_code", "Quel est ton code postal ?", pattern=r"\d{5}",
         invalid="Ton code postal, c'est 5 chiffres, par exemple 93500."),
    Step("situation", "Qu'est-ce que tu fais en ce moment ?",
         (("job_seeker", "Je cherche du travail"), ("school", "Je suis au lycée"),
          ("training", "Je suis en formation"), ("employed", "J'ai un travail"),
          ("none", "Rien de tout ça"))),
    Step("france_travail", "Depuis combien de temps es-tu inscrit·e à France Travail ?",
         (("no", "Je ne suis pas inscrit·e"), ("under_12", "Moins d'un an"),
          ("12_23", "Entre 1 et 2 ans"), ("24_plus", "2 ans ou plus"))),
    Step("diploma_level", "Quel est ton diplôme le plus haut ?",
         (("below_3", "Pas de diplôme"), ("3", "CAP ou BEP"), ("4", "Bac"),
          ("5", "Bac +2"), ("6_plus", "Bac +3 ou plus"))),
    Step("allowances", "Tu touches une de ces aides ?",
         (("none", "Aucune"), ("rsa", "Le RSA"), ("ass", "L'ASS"), ("aah", "L'AAH"))),
    Step("life_situations", "Une de ces situations te concerne ?",
         (("none", "Aucune"), ("qpv", "J'habite un quartier prioritaire"),
          ("pi", "J'élève seul·e mon enfant"), ("th", "J'ai une RQTH"))),
    Step("first_name", "Quel est ton prénom ?", pattern=r"[^\d\n]{1,60}",
         invalid="Écris juste ton prénom, par exemple Samir."),
    Step("phone", "Quel est ton numéro de téléphone ?", pattern=r"(\+33|0)[1-9]( ?\d\d){4}",
         invalid="Ton numéro doit ressembler à 06 12 34 56 78."),
    Step("confirm", "C'est bien ça ? On l'envoie ?",
         (("confirm", "Oui, c'est bon"), ("edit", "Je corrige"))),
)  # fmt: skip


def keyboard_rows(step: Step) -> list[list[tuple[str, str]]]:
    """(label, callback data) rows of a choice step, one button per row as Aiguillage does."""
    return [[(label, f"c|{step.name}|{value}")] for value, label in step.choices]


def choice_value(step: Step, data: str | None) -> str | None:
    """The value of a pressed button of this step, or None for a press elsewhere."""
    prefix = f"c|{step.name}|"
    if not data or not data.startswith(prefix):
        return None
    value = data.removeprefix(prefix)
    return value if any(value == v for v, _ in step.choices) else None


def text_valid(step: Step, text: str | None) -> bool:
    """Whether a typed answer fits the step."""
    return bool(text) and re.fullmatch(step.pattern, (text or "").strip()) is not None


def parse_args(description: str | None, argv: list[str] | None = None) -> argparse.Namespace:
    """The command line both baseline bots take (the benchmark starts them with it)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True, help="Bot API base URL, ending in /bot")
    parser.add_argument("--token", default="123456:TEST-token-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345")
    parser.add_argument("--secret", default="bench-secret")
    return parser.parse_args(argv)
