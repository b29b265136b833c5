"""The chat on partners' own websites: which sites may show it, and the one line they paste.

A partner adds ``<script src="…/embed.js" data-code="CODE" async>`` to its pages
(webhook/embed.py serves it); the chat page then opens in a frame of the partner's page, which
the browser allows only for the origins of ``AIGUILLAGE_EMBED_ORIGINS`` (its CSP's
``frame-ancestors``).
"""

from __future__ import annotations

import html
import re

# Any https site, and a partner's webmaster trying it on their own computer. Framing by any
# https site is safe here: the chat has no sign-in and no cookie, and a page that frames it
# only ever reaches a conversation of its own (browsers keep a framed page's storage apart
# for each top-level site).
DEFAULT_EMBED_ORIGINS = "https: http://localhost:* http://127.0.0.1:*"
# Only a person's own computer may frame the chat over plain http: elsewhere anyone on the
# network could rewrite the page around it.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
ORIGIN = re.compile(
    r"^(?P<scheme>https?)://(?P<host>(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)"
    r"(:(?P<port>\*|[0-9]{1,5}))?$"
)


def parse_embed_origins(value: str) -> tuple[str, ...]:
    """The CSP sources of a list of origins (spaces or commas between them), or ValueError
    naming the first one that is not an origin a partner's site can have."""
    parts = [part for part in re.split(r"[\s,]+", value.strip()) if part]
    if not parts:
        raise ValueError("expected https:// origins separated by spaces, or 'none'")
    if "'none'" in parts:
        if len(parts) > 1:
            raise ValueError("'none' (no site may show the chat) goes alone")
        return ("'none'",)
    return tuple(_source(part) for part in parts)


def _source(part: str) -> str:
    if part.lower() == "https:":
        return "https:"
    # An address copied from the browser ends with "/": the origin is what comes before.
    origin = part.lower().removesuffix("/")
    match = ORIGIN.match(origin)
    if match is None:
        raise ValueError(
            f"{part!r} is not an origin: expected https://site.example (no path), "
            "https://*.site.example, or https: for any https site"
        )
    port = match["port"]
    if port not in (None, "*") and not 0 < int(port) < 65536:
        raise ValueError(f"{part!r}: the port must be between 1 and 65535")
    if match["scheme"] == "http" and match["host"] not in LOCAL_HOSTS:
        raise ValueError(
            f"{part!r}: only https:// sites may show the chat "
            "(http:// is accepted for localhost and 127.0.0.1, to try it)"
        )
    return origin


def embed_script_url(base: str) -> str:
    """The widget's address on the service at ``base`` (its public address)."""
    return f"{base.rstrip('/')}/embed.js"


def embed_snippet(base: str, code: str) -> str:
    """The line a partner pastes into its pages to show the chat with its code."""
    source = html.escape(embed_script_url(base), quote=True)
    return f'<script src="{source}" data-code="{html.escape(code, quote=True)}" async></script>'
