"""Commands as words: what a person writes on WhatsApp does what a Telegram command does."""

from __future__ import annotations

import re

import pytest

from bot.channels.whatsapp.words import (
    COMMAND_WORDS,
    command_of,
    help_line,
    is_stop,
    whatsapp_wording,
)
from bot.conversations.commands import TYPED_COMMANDS
from flows.i18n import LANGUAGES, Language, source_messages, text
from flows.messages import Input

# A Telegram command left in a text: "/mes_donnees", not a link's path.
_MENTION = re.compile(r"(?<![\w/.:])/(" + "|".join(TYPED_COMMANDS) + r")(?!\w)")


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("retour", "back"),
        ("Retour !", "back"),
        ("  RETOUR. ", "back"),
        ("back", "back"),
        ("/retour", "back"),
        ("Recommencer", "restart"),
        ("restart", "restart"),
        ("conseiller", "human"),
        ("Conseillère", "human"),
        ("adviser", "human"),
        ("Advisor", "human"),
        ("human", "human"),
        ("mes données", "my_data"),
        ("Mes Donnees ?", "my_data"),
        ("mes_donnees", "my_data"),
        ("my data", "my_data"),
        ("supprimer", "erase"),
        ("Delete", "erase"),
    ],
)
def test_a_command_word_in_any_case_accent_or_punctuation(typed: str, command: str) -> None:
    assert command_of(typed) == Input(command=command)


@pytest.mark.parametrize(
    ("typed", "payload"),
    [
        ("langue en", "en"),
        ("Langue EN", "en"),
        ("language english", "en"),
        ("langue anglais", "en"),
        ("langue français", "fr"),
        ("language fr", "fr"),
        ("/langue en", "en"),
        ("langue", None),
        ("langue espagnol", None),  # the engine answers with the languages it speaks
    ],
)
def test_language_takes_the_language_after_it(typed: str, payload: str | None) -> None:
    assert command_of(typed) == Input(command="language", payload=payload)


def test_help_is_a_command_the_channel_answers() -> None:
    assert command_of("aide") == command_of("Help!") == Input(command="help")


@pytest.mark.parametrize(
    "typed",
    [
        "bonjour",
        "start",
        "/start ML93",  # the service reads typed commands
        "je veux revenir en arrière",
        "retour à la question d'avant stp",
        "je veux parler à un conseiller",
        "langue des signes française",
        "mes",
        "19",
        "retour" * 20,
        "",
    ],
)
def test_a_sentence_is_an_answer_not_a_command(typed: str) -> None:
    assert command_of(typed) is None


@pytest.mark.parametrize("typed", ["STOP", "stop", "Stop.", "Arrêt", "ARRET", "arrête"])
def test_stop_words(typed: str) -> None:
    assert is_stop(typed)


@pytest.mark.parametrize("typed", ["stop ou encore", "arrêt de bus", "non", "stop" * 20])
def test_not_stop(typed: str) -> None:
    assert not is_stop(typed)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_names_words_not_telegram_commands(language: Language) -> None:
    for message_id, french in source_messages().items():
        if "/" not in french:
            continue
        # Placeholders left empty: the commands are in the text itself.
        shown = whatsapp_wording(text(message_id, language), language)
        assert _MENTION.search(shown) is None, (message_id, shown)


def test_commands_become_quoted_words() -> None:
    fr = "Tes réponses : /mes_donnees pour les voir, /supprimer pour tout effacer. Écris /start."
    assert whatsapp_wording(fr, "fr") == (
        "Tes réponses : « mes données » pour les voir, « supprimer » pour tout effacer. "
        "Écris « bonjour »."
    )
    en = "To erase everything: /supprimer. You can use /retour to change it."
    assert whatsapp_wording(en, "en") == (
        'To erase everything: "delete". You can use "back" to change it.'
    )


def test_links_and_unknown_commands_are_left_alone() -> None:
    body = "Plus d'infos : https://poles.example/start/retour et /confidentialite, et a/b."
    assert whatsapp_wording(body, "fr") == body


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_words_we_tell_people_to_write_are_understood(language: Language) -> None:
    for command, word in COMMAND_WORDS[language].items():
        if command != "start":  # any message starts again: "bonjour" is an answer
            assert command_of(word) == Input(command=command), word
    # Quoted either way: the English help line is French until it is translated.
    quoted = re.findall(r'« (.+?) »|"(.+?)"', help_line(language))
    assert len(quoted) >= 6
    for word in ("".join(pair) for pair in quoted):
        assert command_of(word) is not None or is_stop(word), word
