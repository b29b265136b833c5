"""The counsellors' group notice: a person's text that cannot become a link, and a gate."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.leads.notices import WORD_JOINER, NoticeGate, unlinkable
from tests.auxil.clock import ManualClock

# What Telegram turns into an entity in plain text: links (with or without a scheme), bare
# domains, e-mails, mentions, hashtags, cashtags and bot commands.
AUTOLINKED = re.compile(
    r"[a-z]+://|[\w-]+\.[a-z]{2,}|@\w|#\w|\$[A-Z]|(?:^|\s)/\w", re.IGNORECASE | re.UNICODE
)


def test_a_first_name_is_never_a_link_a_mention_or_a_command() -> None:
    for name in (
        "http://evil.example/admin/login",
        "evil.example",
        "me@evil.example",
        "@admin",
        "#urgent",
        "/start",
        "$USD",
    ):
        shown = unlinkable(name)
        assert not AUTOLINKED.search(shown), shown
        assert shown.replace(WORD_JOINER, "") == name  # reads the same


def test_a_first_name_cannot_pose_as_another_line() -> None:
    assert unlinkable("Samir\nFiche : x") == "Samir Fiche :\u2060 x"


def test_an_ordinary_name_is_untouched() -> None:
    assert unlinkable("Marie-Hélène") == "Marie-Hélène"


def test_the_gate_lets_a_few_through_a_window_then_counts_the_rest() -> None:
    clock = ManualClock()
    opened = clock.now
    gate = NoticeGate(2, timedelta(minutes=10), clock=clock)
    assert gate.admit() is None
    assert gate.admit() is None
    first = gate.admit()
    second = gate.admit()
    assert first is not None
    assert second is not None
    assert (first.count, second.count) == (1, 2)
    assert second.due == opened + timedelta(minutes=10)
    clock.advance(timedelta(minutes=10))
    assert gate.admit() is None  # a new window
