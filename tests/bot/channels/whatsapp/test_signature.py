"""Only Meta's notifications get in: the body's HMAC signature, and the subscription handshake."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.channels.whatsapp.signature import valid_signature, verification_answer
from tests.auxil.whatsapp_payloads import APP_SECRET, notification, raw, sign, text_message

SECRET = APP_SECRET.encode()
VERIFY_TOKEN = "verify-token_1"


@pytest.fixture
def body() -> bytes:
    # Meta escapes what is not ASCII; the signature is over these bytes, not re-encoded JSON.
    return raw(notification(messages=[text_message("Salut, ça va ? 🙂")]))


def test_metas_signature_is_accepted(body: bytes) -> None:
    assert valid_signature(SECRET, body, sign(body))


def test_uppercase_hex_is_the_same_signature(body: bytes) -> None:
    header = sign(body)
    assert valid_signature(SECRET, body, "sha256=" + header.removeprefix("sha256=").upper())


def test_a_body_changed_after_signing_is_refused(body: bytes) -> None:
    header = sign(body)
    assert not valid_signature(SECRET, body.replace(b"Salut", b"Salud"), header)
    assert not valid_signature(SECRET, body + b" ", header)


def test_a_signature_made_with_another_secret_is_refused(body: bytes) -> None:
    assert not valid_signature(SECRET, body, sign(body, "someone-elses-secret"))
    assert not valid_signature(b"", body, sign(body, ""))


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha256", "   "])
def test_a_missing_signature_is_refused(body: bytes, header: str | None) -> None:
    assert not valid_signature(SECRET, body, header)


def test_another_scheme_is_refused(body: bytes) -> None:
    digest = sign(body).removeprefix("sha256=")
    sha1 = hmac.new(SECRET, body, hashlib.sha1).hexdigest()
    for header in (digest, f"sha1={sha1}", f"SHA256={digest}", f"sha256 ={digest}"):
        assert not valid_signature(SECRET, body, header), header


def test_a_signature_of_the_wrong_length_is_refused(body: bytes) -> None:
    header = sign(body)
    for forged in (header[:-1], header + "0", header + "\n", header[:40], f" {header}"):
        assert not valid_signature(SECRET, body, forged), forged


def test_a_signature_with_non_hex_characters_is_refused(body: bytes) -> None:
    header = sign(body)
    assert not valid_signature(SECRET, body, header[:-1] + "g")
    assert not valid_signature(SECRET, body, header[:-1] + "٣")  # an Arabic-Indic digit


def handshake(**overrides: str) -> dict[str, str]:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    return params | overrides


def test_the_handshake_with_our_token_gets_its_challenge_back() -> None:
    assert verification_answer(handshake(), VERIFY_TOKEN) == "1158201444"
    assert verification_answer(handshake(**{"hub.challenge": "a-Z_9"}), VERIFY_TOKEN) == "a-Z_9"


@pytest.mark.parametrize(
    "params",
    [
        handshake(**{"hub.verify_token": "guessed"}),
        handshake(**{"hub.verify_token": ""}),
        handshake(**{"hub.verify_token": "verify-token_1 "}),
        handshake(**{"hub.verify_token": "vérify"}),
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
    ],
)
def test_a_handshake_with_a_wrong_token_gets_nothing(params: dict[str, str]) -> None:
    assert verification_answer(params, VERIFY_TOKEN) is None


@pytest.mark.parametrize("mode", ["unsubscribe", "SUBSCRIBE", ""])
def test_a_handshake_of_another_mode_gets_nothing(mode: str) -> None:
    assert verification_answer(handshake(**{"hub.mode": mode}), VERIFY_TOKEN) is None
    assert (
        verification_answer({"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, VERIFY_TOKEN)
        is None
    )


@pytest.mark.parametrize(
    "challenge",
    [
        "<script>alert(1)</script>",
        "1158201444\r\nSet-Cookie: a=b",
        "x" * 129,
        "",
        "café",
        "12 34",
    ],
)
def test_a_hostile_challenge_is_not_echoed(challenge: str) -> None:
    assert verification_answer(handshake(**{"hub.challenge": challenge}), VERIFY_TOKEN) is None


def test_the_longest_challenge_allowed_is_echoed() -> None:
    challenge = "9" * 128
    assert verification_answer(handshake(**{"hub.challenge": challenge}), VERIFY_TOKEN) == challenge


def test_no_verify_token_configured_accepts_no_handshake() -> None:
    assert verification_answer(handshake(**{"hub.verify_token": ""}), "") is None
