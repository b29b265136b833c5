"""What a partner's referral code may be: the one pattern for links, forms and the command line."""

from __future__ import annotations

import re

# Letters, digits, "-" and "_": safe in a Telegram /start payload (64 characters at most) and
# in a URL without escaping.
REFERRAL_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def is_referral_code(text: str) -> bool:
    """Whether a text can be a referral code (registered or not)."""
    return REFERRAL_CODE.fullmatch(text) is not None
