"""The links a partner shares: the bot's deep link and the web chat's, with its code."""

from __future__ import annotations

from bot.settings import Settings


def links(
    settings: Settings, username: str | None, code: str, *, served_at: str | None = None
) -> list[str]:
    """The deep links of a code: Telegram, and the web chat when an address is known.

    The web chat's address is the public one (``AIGUILLAGE_PUBLIC_URL``), else ``served_at``:
    the address a page was asked on, which is the service's own when nothing else is set.
    """
    found = []
    if username:
        found.append(f"https://t.me/{username}?start={code}")
    base = settings.public_url or served_at
    if base:
        found.append(f"{base.rstrip('/')}/?start={code}")
    return found
