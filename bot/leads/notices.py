"""What the counsellors' Telegram group may receive: a few notices a window, then one digest.

A flood of leads (a script, a busy day) queued hundreds of notices, and Telegram lets a
group have about one message a second: real notices waited minutes behind spam. Beyond the
rate, notices are counted in one digest message sent at the end of the window. And a first
name is the person's own text: it must not become a link, a mention or a command there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import utcnow

# After these characters Telegram looks for a domain, a path, a user, a tag or a command.
_LINK_MARKS = frozenset(".:/@#$")
# U+2060 WORD JOINER: invisible, no space, and no part of any link, mention or command.
WORD_JOINER = "\u2060"


def unlinkable(name: str) -> str:
    """A person's text as Telegram will not make it a link: ``evil.example`` stays text.

    A word joiner after each dot, colon, slash, @, # and $ breaks Telegram's detection of
    URLs, e-mails, mentions, hashtags and commands; line breaks become spaces so that a name
    cannot pose as another line of the notice.
    """
    flat = " ".join(name.split())
    return "".join(c + WORD_JOINER if c in _LINK_MARKS else c for c in flat)


@dataclass(frozen=True)
class Digest:
    """The notices held back in the current window, and when their digest goes out."""

    count: int
    due: datetime


class NoticeGate:
    """At most ``limit`` notices a ``window`` (per process); the rest counted for a digest.

    The window opens with the first notice after the previous one closed.
    """

    def __init__(
        self, limit: int, window: timedelta, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._opened: datetime | None = None
        self._sent = 0
        self._held_back = 0
        # The outbox row of this window's digest, updated as more notices are held back.
        self.digest_id: int | None = None

    def admit(self) -> Digest | None:
        """None: send this notice now. Else: it joins the window's digest."""
        now = self.clock()
        if self._opened is None or now >= self._opened + self.window:
            self._opened, self._sent, self._held_back, self.digest_id = now, 0, 0, None
        if self._sent < self.limit:
            self._sent += 1
            return None
        self._held_back += 1
        return Digest(self._held_back, self._opened + self.window)

    def now_reads(self, digest: Digest) -> Digest | None:
        """The digest as it must read now (more notices may have joined it), or None if its
        window has closed meanwhile."""
        if self._opened is None or digest.due != self._opened + self.window:
            return None
        return Digest(self._held_back, digest.due)
