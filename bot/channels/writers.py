"""Writing first to a person, on the channels that can (a counsellor's message, a reminder).

The web chat and the console cannot be written to: the web page polls for counsellors'
messages (bot/conversations/counsellor.py), and reminders go to channels that can only.
A new messenger adds its renderer here.
"""

from __future__ import annotations

from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram.render import reply_calls
from bot.messaging.outbox import ApiCall
from flows.i18n import Language
from flows.render import RenderedMessage

# The channels a reminder can reach.
WRITABLE = frozenset({TELEGRAM})


def calls_to(
    channel: str,
    external_id: str,
    messages: list[RenderedMessage],
    *,
    step: str | None,
    language: Language,
) -> list[ApiCall] | None:
    """The API calls that show these messages to the person; None where we cannot write."""
    if channel == TELEGRAM:
        return reply_calls(int(external_id), messages, step=step, language=language)
    return None
