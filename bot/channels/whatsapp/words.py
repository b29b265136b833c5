"""Commands as words: WhatsApp has no command menu, so "retour" or "mes données" does what
/retour or /mes_donnees does on Telegram, in French or English, however it is typed."""

from __future__ import annotations

import re

from bot.conversations.commands import TYPED_COMMANDS
from flows.i18n import Language, text
from flows.inputs import fold
from flows.messages import Input

# Whole messages (folded: lower case, no accents, no punctuation) that are commands. Only a
# message that is nothing but the word counts: "je veux revenir en arrière" is an answer.
# Neither "start" nor "bonjour": a greeting is a message like any other (and any message
# starts a conversation); "/start CODE" is the service's typed command.
WORDS = {
    "retour": "back",
    "back": "back",
    "recommencer": "restart",
    "restart": "restart",
    "conseiller": "human",
    "conseillere": "human",
    "adviser": "human",
    "advisor": "human",
    "human": "human",
    "langue": "language",
    "language": "language",
    "mes donnees": "my_data",
    "my data": "my_data",
    "supprimer": "erase",
    "delete": "erase",
    # Not an engine command: the channel answers it with help_line.
    "aide": "help",
    "help": "help",
}
# "langue en", "language english": the language after the word.
LANGUAGE_NAMES: dict[str, Language] = {
    "fr": "fr",
    "francais": "fr",
    "french": "fr",
    "en": "en",
    "anglais": "en",
    "english": "en",
}
# Whoever writes one of these wants no more messages from us (WhatsApp's opt-out habit).
STOP_WORDS = frozenset({"stop", "arret", "arrete"})
# The longest command message worth folding ("mes donnees" and a language name fit easily).
_LONGEST = 40

# What our texts' Telegram commands become on WhatsApp: the word to write. "/start" has no
# word: any message starts a conversation again, so the texts say "bonjour".
COMMAND_WORDS: dict[Language, dict[str, str]] = {
    "fr": {
        "start": "bonjour",
        "back": "retour",
        "restart": "recommencer",
        "human": "conseiller",
        "language": "langue",
        "my_data": "mes données",
        "erase": "supprimer",
    },
    "en": {
        "start": "hello",
        "back": "back",
        "restart": "restart",
        "human": "adviser",
        "language": "language",
        "my_data": "my data",
        "erase": "delete",
    },
}
_QUOTES: dict[Language, tuple[str, str]] = {"fr": ("« ", " »"), "en": ('"', '"')}
# A command in a text ("écris /start."), not a path in a link ("https://x.fr/start").
_MENTION = re.compile(
    r"(?<![\w/.:])/(" + "|".join(sorted(TYPED_COMMANDS, key=len, reverse=True)) + r")(?!\w)"
)


def _key(typed: str) -> str:
    return fold(typed.replace("_", " ")).strip(". ")


def command_of(typed: str) -> Input | None:
    """The command a message names ("retour", "Mes données !", "/langue en"), if any.

    "aide" and "help" give ``Input(command="help")``, which the channel answers itself.
    """
    if len(typed) > _LONGEST:
        return None
    key = _key(typed)
    name = WORDS.get(key)
    if name is not None:
        return Input(command=name)
    word, _, rest = key.partition(" ")
    if WORDS.get(word) == "language" and rest and " " not in rest:
        # An unknown language is still the command: the engine names the ones it speaks.
        return Input(command="language", payload=LANGUAGE_NAMES.get(rest))
    return None


def is_stop(typed: str) -> bool:
    """Whether a message asks us to stop writing ("STOP", "Arrêt")."""
    return len(typed) <= _LONGEST and _key(typed) in STOP_WORDS


def help_line(language: Language) -> str:
    """A short line naming the words a person can write at any time."""
    return text("whatsapp.help", language)


def whatsapp_wording(body: str, language: Language) -> str:
    """A text with its Telegram commands ("/mes_donnees") as the words to write on WhatsApp
    (« mes données »)."""
    if "/" not in body:
        return body
    words = COMMAND_WORDS[language]
    opening, closing = _QUOTES[language]

    def word(match: re.Match[str]) -> str:
        return f"{opening}{words[TYPED_COMMANDS[match.group(1)]]}{closing}"

    return _MENTION.sub(word, body)
