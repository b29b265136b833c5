"""A partner's WhatsApp link: the first message it prefills, and the code read back from it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.partners.whatsapp_link import (
    WHATSAPP_CODE_PATTERN,
    referral_code_in,
    whatsapp_first_message,
    whatsapp_link,
)

NUMBER = "33612345678"


def prefilled(link: str) -> str:
    """The first message a wa.me link puts in the person's chat, as WhatsApp decodes it."""
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", f"/{NUMBER}")
    [text] = parse_qs(parts.query, strict_parsing=True)["text"]
    return text


def test_the_link_opens_a_chat_with_a_friendly_french_message_naming_the_code() -> None:
    link = whatsapp_link(NUMBER, "ML_POISSY")
    assert prefilled(link) == (
        "Bonjour ! Je viens de la part de mon partenaire (code partenaire : ML_POISSY)"
    )
    # Nothing in the text a messenger would cut the link at, or read as another parameter.
    assert not set(urlsplit(link).query) & set(" !():&#+")


@pytest.mark.parametrize("code", ["ML_POISSY", "a", "X" * 64, "salon-2024", "Ab_9-z"])
def test_the_channel_reads_back_every_code_a_link_can_carry(code: str) -> None:
    assert whatsapp_first_message(code) == prefilled(whatsapp_link(NUMBER, code))
    assert referral_code_in(prefilled(whatsapp_link(NUMBER, code))) == code


@pytest.mark.parametrize(
    "message",
    [
        "CODE PARTENAIRE: ML_POISSY",
        "code partenaire\u00a0: ML_POISSY",  # a no-break space, as French keyboards type it
        "code partenaire\u202f:\u202fML_POISSY",
        "code  partenaire :ML_POISSY",
        "Salut ! code partenaire : ML_POISSY, merci",
        "Bonjour ! Je viens de la part de mon partenaire (code partenaire : ML_POISSY) 🙂",
    ],
)
def test_the_code_is_read_however_the_phone_spaced_or_cased_the_words(message: str) -> None:
    assert referral_code_in(message) == "ML_POISSY"


@pytest.mark.parametrize(
    "message",
    [
        "Bonjour",
        "Je viens de la part de la Mission locale de Poissy",
        "code partenaire :",
        "code partenaire : " + "X" * 65,  # longer than a code can be: not its first 64 letters
        "mon code : ML_POISSY",
        "barcode partenaire : ML_POISSY",
    ],
)
def test_messages_without_a_code_carry_none(message: str) -> None:
    assert referral_code_in(message) is None
    assert WHATSAPP_CODE_PATTERN.search(message) is None


@pytest.mark.parametrize("code", ["", "ML POISSY", "x" * 65, "code:partenaire", "é"])
def test_no_link_carries_a_code_the_channel_could_not_read(code: str) -> None:
    with pytest.raises(ValueError, match="not a referral code"):
        whatsapp_link(NUMBER, code)
