"""The links a partner shares: the bot's deep link and the web chat's, with its code."""

from __future__ import annotations

from bot.settings import Settings


def links(settings: Settings, username: str | None, code: str) -> list[str]:
    """The deep links of a code: Telegram, and the web chat when the public address is known."""
    found = []
    if username:
        found.append(f"https://t.me/{username}?start={code}")
    if settings.public_url:
        found.append(f"{settings.public_url}/?start={code}")
    return found
