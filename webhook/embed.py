"""``/embed.js``: the chat button partners put on their own sites (bot/partners/embedding.py).

The script's address is pasted once into partners' pages and can carry no version: it is
cached for an hour only (then revalidated by its ETag), so that a fix reaches every partner's
visitors the same day.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import Response

from flows.i18n import LANGUAGES, text
from webhook.web import STATIC_DIR

# Where the script expects its texts; replaced by them in every language.
TEXTS_PLACEHOLDER = "/* texts */ {}"
# The script's texts: its name there, and the message id (flows/data/messages.yaml).
TEXT_IDS = {"open": "embed.open", "close": "embed.close", "frame": "embed.frame"}
CACHE_SECONDS = 3600

router = APIRouter(tags=["web chat"])


@dataclass(frozen=True)
class Script:
    """The script as served, and its ETag."""

    body: bytes
    etag: str


@cache
def embed_script() -> Script:
    """embed.js with its texts in every language, read once per process."""
    source = (STATIC_DIR / "embed.js").read_text(encoding="utf-8")
    if source.count(TEXTS_PLACEHOLDER) != 1:
        raise RuntimeError(f"embed.js must hold {TEXTS_PLACEHOLDER!r} once, for its texts")
    texts = {
        language: {name: text(message_id, language) for name, message_id in TEXT_IDS.items()}
        for language in LANGUAGES
    }
    # Every partner's visitor downloads it: served without its comment lines and indentation
    # (none of its strings spans a line that starts with "//").
    lines = (line.strip() for line in source.splitlines())
    served = "\n".join(line for line in lines if line and not line.startswith("//"))
    # ASCII-escaped JSON is a valid JavaScript literal whatever the texts hold.
    body = served.replace(TEXTS_PLACEHOLDER, json.dumps(texts, ensure_ascii=True)).encode()
    return Script(body, f'"{hashlib.sha256(body).hexdigest()[:16]}"')


@router.get("/embed.js", include_in_schema=False)
async def embed_js(request: Request) -> Response:
    """The widget's script: a button that opens the web chat in a panel of the host page."""
    script = embed_script()
    headers = {
        "Cache-Control": f"public, max-age={CACHE_SECONDS}",
        "ETag": script.etag,
        # Loaded by other sites' pages, those that require COEP included.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if script.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(script.body, media_type="text/javascript; charset=utf-8", headers=headers)
