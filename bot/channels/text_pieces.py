"""Long texts cut for messengers that take so many characters a message."""

from __future__ import annotations


def split_text(body: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at paragraph, line or word ends."""
    pieces: list[str] = []
    while len(body) > limit:
        # Prefer a paragraph end, then a line end, then a word end; else cut mid-word.
        cuts = (body.rfind(sep, 0, limit) for sep in ("\n\n", "\n", " "))
        cut = next((c for c in cuts if c > limit // 2), limit)
        pieces.append(body[:cut].rstrip())
        body = body[cut:].lstrip()
    return [*pieces, body] if body else pieces
