"""What the messaging pipeline needs of a messenger's API: one call, and why it failed.

A channel's adapter implements ``Messenger`` (Telegram: bot/channels/telegram/messenger.py)
and translates its client's errors into the three below, which the sender turns into the
outbox's outcomes.
"""

from __future__ import annotations

from typing import Any, Protocol


class SlowDown(Exception):  # noqa: N818 (a request from the messenger, not a fault)
    """The messenger asked to wait this long before the next call (HTTP 429): every call, or
    with ``chat_only`` only those to this chat (WhatsApp's limit per person)."""

    def __init__(self, seconds: float, *, chat_only: bool = False) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds
        self.chat_only = chat_only


class Refused(Exception):  # noqa: N818
    """The messenger will never take this call; ``blocked``: the person blocked the bot."""

    def __init__(self, reason: str, *, blocked: bool = False) -> None:
        super().__init__(reason)
        self.blocked = blocked


class Unreachable(Exception):  # noqa: N818
    """The messenger could not be reached (network, timeout, 5xx): try again later."""


class Messenger(Protocol):
    """A messenger's API as the sender uses it."""

    # The conversations' channel (``telegram``): whose conversation a blocked chat marks.
    channel: str
    # Calls that are not messages in the chat, so not held to the per-chat pace.
    unpaced: frozenset[str]

    async def call(self, method: str, payload: dict[str, Any]) -> None:
        """Make one call; raises SlowDown, Refused or Unreachable when it is not taken."""
