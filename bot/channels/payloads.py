"""What a messenger delivered, made safe to store: no lone half of an emoji, no absurd nesting.

The person's message is kept; a delivery no messenger would send (nested too deeply) is refused
(MalformedUpdate) and never retried.
"""

from __future__ import annotations

import re
from typing import Any

# A messenger's deliveries nest a dozen levels at most (Telegram: a reply to a message in a
# callback's message); anything deeper is forged, and would only cost recursion further on.
MAX_DEPTH = 32
# JSON may carry half of a surrogate pair ("\ud83d" alone): no database stores it as UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedUpdate(ValueError):
    """A delivery no messenger would send (nested too deeply): ignored, never retried."""


def clean_update(update: dict[str, Any], raw: bytes | None = None) -> dict[str, Any]:
    """The update with lone surrogates left out of its texts; MalformedUpdate if too deep.

    The person's message is kept (a stray half of an emoji does not change what they meant).
    Given the JSON it was parsed from, most updates are let through on two byte searches: too
    few brackets to nest that deep, and no escaped surrogate (raw UTF-8 cannot hold a lone one).
    """
    if (
        raw is not None
        and b"\\ud" not in raw
        and b"\\uD" not in raw
        and raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH
    ):
        return update
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(update, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedUpdate(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict) and not all(map(_storable, node)):
            cleaned = {_LONE_SURROGATE.sub("", key): value for key, value in node.items()}
            node.clear()
            node.update(cleaned)
        keys = node.keys() if isinstance(node, dict) else range(len(node))
        for key in keys:
            value = node[key]  # type: ignore[index]
            if isinstance(value, str):
                if not value.isascii() and _LONE_SURROGATE.search(value):
                    node[key] = _LONE_SURROGATE.sub("", value)  # type: ignore[index]
            elif isinstance(value, dict | list):
                stack.append((value, depth + 1))
    return update


def _storable(key: str) -> bool:
    return key.isascii() or not _LONE_SURROGATE.search(key)
