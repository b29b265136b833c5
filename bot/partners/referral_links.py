"""The links a partner shares: the bot's deep link, the web chat's and WhatsApp's, with its code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.partners.whatsapp_link import whatsapp_link
from bot.settings import Settings

# The conversations' channel names. Written out: bot.channels.web names its own with the
# sessions' storage, which the command line need not load to print links.
Channel = Literal["telegram", "web", "whatsapp"]


@dataclass(frozen=True)
class ReferralLinks:
    """A code's link on each channel that can take it; None where a channel offers none."""

    telegram: str | None = None
    web_chat: str | None = None
    whatsapp: str | None = None

    def by_channel(self) -> dict[Channel, str]:
        """The links offered, by the conversations' channel names (Telegram, web, WhatsApp)."""
        found: dict[Channel, str | None] = {
            "telegram": self.telegram,
            "web": self.web_chat,
            "whatsapp": self.whatsapp,
        }
        return {channel: link for channel, link in found.items() if link}

    def of(self, channel: str) -> str | None:
        """The link on a channel named as the conversations name it; None if none is offered."""
        return next((link for name, link in self.by_channel().items() if name == channel), None)


def referral_links(
    settings: Settings, username: str | None, code: str, *, served_at: str | None = None
) -> ReferralLinks:
    """The links of a code: Telegram when the bot's name is known, the web chat when an
    address is, WhatsApp when the channel is on and its number is set.

    The web chat's address is the public one (``AIGUILLAGE_PUBLIC_URL``), else ``served_at``:
    the address a page was asked on, which is the service's own when nothing else is set.
    """
    base = settings.public_url or served_at
    # A number without the channel would send people to a chat nobody reads.
    number = settings.whatsapp_number if settings.whatsapp_enabled else None
    return ReferralLinks(
        telegram=f"https://t.me/{username}?start={code}" if username else None,
        web_chat=f"{base.rstrip('/')}/?start={code}" if base else None,
        whatsapp=whatsapp_link(number, code) if number else None,
    )


def links(
    settings: Settings, username: str | None, code: str, *, served_at: str | None = None
) -> list[str]:
    """The links of a code in a list, as the command line prints them: Telegram, web, WhatsApp."""
    found = referral_links(settings, username, code, served_at=served_at)
    return list(found.by_channel().values())
