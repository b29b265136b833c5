"""Is a webhook call Meta's? The POST's signature, and the GET handshake that subscribes us.

Meta signs each notification's raw body with the app secret (HMAC-SHA256, sent as
``X-Hub-Signature-256: sha256=<hex>``), and checks a new callback URL with a GET carrying
``hub.mode=subscribe``, our verify token and a challenge to echo back:
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/create-webhook-endpoint
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
# The challenge is echoed as text/plain: Meta sends digits; anything else is refused.
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def valid_signature(app_secret: bytes, raw_body: bytes, header: str | None) -> bool:
    """The ``X-Hub-Signature-256`` header signs exactly these bytes with the app secret."""
    if header is None or not app_secret:
        return False
    match = _SIGNATURE.fullmatch(header)
    if match is None:
        return False
    expected = hmac.new(app_secret, raw_body, hashlib.sha256).hexdigest()
    # hexdigest is lowercase; Meta sends lowercase, and the case of a hex digit changes nothing.
    return hmac.compare_digest(expected.encode(), match.group(1).lower().encode())


def verification_answer(params: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to answer Meta's subscription GET with, or None when it is not ours."""
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if params.get("hub.mode") != "subscribe" or token is None or challenge is None:
        return None
    # surrogatepass: a query string may decode to lone surrogates; they must not raise here.
    given, ours = token.encode("utf-8", "surrogatepass"), verify_token.encode("utf-8")
    if not verify_token or not hmac.compare_digest(given, ours):
        return None
    return challenge if _CHALLENGE.fullmatch(challenge) else None
