"""A referral code's WhatsApp link, and the one pattern that reads the code back.

WhatsApp has no /start payload: a wa.me link can only prefill the first message, which the
person sends as it is (or edits). The code travels in that text, so the text the link
prefills and the pattern the WhatsApp channel reads it with live here together: changing one
without the other would lose every partner's people.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from bot.partners.codes import is_referral_code

# "code partenaire : ML_POISSY", however the person's phone spaced or cased it (French typing
# puts a no-break space before the colon, which \s matches). A code longer than a code can be
# is no code at all, rather than its first 64 characters.
WHATSAPP_CODE_PATTERN = re.compile(
    r"\bcode\s+partenaire\s*:\s*([A-Za-z0-9_-]{1,64})(?![A-Za-z0-9_-])", re.IGNORECASE
)


def whatsapp_code_phrase(code: str) -> str:
    """The words that carry a code in a first message: ``code partenaire : CODE``."""
    if not is_referral_code(code):
        # The link would prefill a code the channel cannot read back.
        raise ValueError(f"not a referral code: {code!r}")
    return f"code partenaire : {code}"


def whatsapp_first_message(code: str) -> str:
    """The first message a partner's WhatsApp link prefills, in French, with the code."""
    # Always French, never translated: the channel reads these exact words.
    return f"Bonjour ! Je viens de la part de mon partenaire ({whatsapp_code_phrase(code)})"


def whatsapp_link(number: str, code: str) -> str:
    """``https://wa.me/<number>?text=…``: a chat with the business number, the message ready."""
    # Every reserved character escaped (quote's safe=""), as wa.me documents its text.
    return f"https://wa.me/{number}?text={quote(whatsapp_first_message(code), safe='')}"


def referral_code_in(message: str) -> str | None:
    """The referral code a first message carries (as the link prefilled it); None if none."""
    found = WHATSAPP_CODE_PATTERN.search(message)
    return found.group(1) if found else None
