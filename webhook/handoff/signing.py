"""Standard Webhooks signatures (https://www.standardwebhooks.com/), and their secrets.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature is the
base64 HMAC-SHA256 of it under the secret's key, sent as ``v1,<signature>``. During a secret
rotation both keys sign, and the header lists both, separated by a space.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
KEY_BYTES = 32


class BadSecret(ValueError):
    """Not a whsec_ secret with a base64 key."""


def new_secret() -> str:
    """A fresh signing secret, as receivers' Standard Webhooks libraries expect it."""
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except ValueError as error:
        raise BadSecret("expected whsec_ followed by a base64 key") from error


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    content = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    secrets_in_use: list[str], message_id: str, timestamp: int, body: str
) -> dict[str, str]:
    """The request headers of one try: the same id every time, this try's time and signatures."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, message_id, timestamp, body) for secret in secrets_in_use
        ),
        "content-type": "application/json",
    }
