"""Phone numbers as the SMS channel uses them: which may get an SMS, and how each is keyed.

The outbox keys a chat by an integer, here the number's E.164 digits; a STOP is kept as the
SHA-256 of the E.164 number, so that the table of stopped numbers lists no number.
"""

from __future__ import annotations

import hashlib
import re

from flows.inputs import InvalidInput, read_phone

# French mobile numbers (06 and 07). Landlines cannot take an SMS, and other countries cost
# more and are not where PôleS's sessions take place.
_MOBILE = re.compile(r"^\+33[67]\d{8}$")


def mobile_number(phone: str) -> str | None:
    """The E.164 form of a French mobile number (06 12 34 56 78 → +33612345678), else None."""
    try:
        number = read_phone(phone)
    except InvalidInput:
        return None
    return number if _MOBILE.match(number) else None


def phone_hash(number: str) -> str:
    """What is kept of a number that answered STOP: the SHA-256 of its E.164 form."""
    return hashlib.sha256(number.encode("ascii")).hexdigest()


def digits(number: str) -> str:
    """An E.164 number without its plus: the provider's ``recipient``, the outbox's chat."""
    return number.removeprefix("+")


def from_digits(value: str) -> str | None:
    """The E.164 form of the digits a provider reports (``33612345678``), if they are some."""
    cleaned = value.strip().removeprefix("+")
    return f"+{cleaned}" if cleaned.isdigit() and 8 <= len(cleaned) <= 15 else None
