"""Signed links to one booking: a person confirms or cancels from an SMS without signing in.

A token is the booking's id, when the link stops working, and an HMAC-SHA256 of both, in
48 URL-safe characters (an SMS is short). The HMAC key is derived from the service's signing
key (bot/signing_key.py) for this use alone, so that a link can never pass for an admin
cookie nor the reverse. A link works until the end of the day after the session, Paris time:
long enough to say "I could not come", not forever.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from datetime import datetime, time, timedelta

from bot.clock import PARIS

LINK_PATH = "/rdv/"
_PURPOSE = b"aiguillage appointment link v1"
_CSRF_PURPOSE = b"csrf"
_ID_BYTES = 16  # a booking id is 32 hex digits (bot.clock.new_id)
_SIGNATURE_BYTES = 16  # 128 bits: forging one is out of reach
_EXPIRY = struct.Struct(">I")  # seconds since 1970, good until 2106
TOKEN_LENGTH = 48


def link_key(signing_key: bytes) -> bytes:
    """The key of the appointment links, derived from the service's signing key."""
    return hmac.new(signing_key, _PURPOSE, hashlib.sha256).digest()


def expires_at(ends_at: datetime) -> datetime:
    """When a link to a session ending then stops working: the end of the next day in Paris."""
    day_after = ends_at.astimezone(PARIS).date() + timedelta(days=2)
    return datetime.combine(day_after, time(0, 0), tzinfo=PARIS)


def make_token(booking_id: str, ends_at: datetime, key: bytes) -> str:
    """The token of a booking's link (``key``: the service's signing key)."""
    try:
        booking = bytes.fromhex(booking_id)
    except ValueError:
        raise ValueError("a booking id is 32 hexadecimal digits") from None
    if len(booking) != _ID_BYTES:
        raise ValueError("a booking id is 32 hexadecimal digits")
    signed = booking + _EXPIRY.pack(int(expires_at(ends_at).timestamp()))
    signature = _sign(key, signed)
    return base64.urlsafe_b64encode(signed + signature).decode("ascii")


def read_token(token: str, key: bytes, *, now: datetime) -> str | None:
    """The booking id of a genuine link still valid at ``now``; None for any other token."""
    if len(token) != TOKEN_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    signed, signature = raw[:-_SIGNATURE_BYTES], raw[-_SIGNATURE_BYTES:]
    if len(signed) != _ID_BYTES + _EXPIRY.size:
        return None
    # Checked in constant time before anything of the payload is believed.
    if not hmac.compare_digest(signature, _sign(key, signed)):
        return None
    (expiry,) = _EXPIRY.unpack(signed[_ID_BYTES:])
    if now.timestamp() >= expiry:
        return None
    return signed[:_ID_BYTES].hex()


def csrf_field(token: str, key: bytes) -> str:
    """The hidden field a link's page puts in its forms: a POST must carry it."""
    return hmac.new(link_key(key), _CSRF_PURPOSE + token.encode("ascii"), "sha256").hexdigest()[:32]


def valid_csrf(token: str, given: str | None, key: bytes) -> bool:
    """Whether a form's field is the one its page was given (constant time)."""
    return given is not None and hmac.compare_digest(
        given.encode("utf-8", "replace"), csrf_field(token, key).encode("ascii")
    )


def booking_link(public_url: str | None, booking_id: str, ends_at: datetime, key: bytes) -> str:
    """The address of a booking's page (a path alone when no public address is configured)."""
    return f"{(public_url or '').rstrip('/')}{LINK_PATH}{make_token(booking_id, ends_at, key)}"


def _sign(key: bytes, signed: bytes) -> bytes:
    return hmac.new(link_key(key), signed, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
