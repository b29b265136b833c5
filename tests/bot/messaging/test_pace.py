"""Per-chat pacing remembers only the chats that must still wait; the rest is forgotten."""

from __future__ import annotations

from bot.messaging.chats_behind import ChatsBehind
from bot.messaging.pace import ChatPace
from tests.auxil import telegram_updates as tg
from tests.auxil.telegram_harness import ClockedTelegram
from tests.auxil.virtual_clock import VirtualClock

FIRST_CHAT = 5560000


async def test_chats_whose_time_has_passed_are_forgotten_as_the_sender_works() -> None:
    clock = VirtualClock()
    pace = ChatPace(1.0, clock)
    for chat in range(FIRST_CHAT, FIRST_CHAT + 10_000):
        pace.sent(chat)
    pace.pause(FIRST_CHAT - 1, 30)  # the messenger asked to leave this one alone for 30 s
    assert pace.waiting_chats() == 10_001
    clock.advance(1.5)
    pace.sent(FIRST_CHAT)  # written to again: waits its second once more
    assert pace.waiting_chats() == 2
    # The pace still holds for those remembered.
    await clock.run(pace.wait(FIRST_CHAT))
    assert clock.monotonic() == 2.5
    await clock.run(pace.wait(FIRST_CHAT + 1))  # forgotten: nothing to wait for
    assert clock.monotonic() == 2.5
    clock.advance(30)
    assert pace.waiting_chats() == 0


async def test_after_a_burst_the_sender_remembers_no_chat_once_their_second_has_passed(
    clocked: ClockedTelegram,
) -> None:
    sender = clocked.runtime.pipeline.sender
    chats = range(FIRST_CHAT, FIRST_CHAT + 50)
    for chat in chats:
        await clocked.clock.run(clocked.runtime.accept(tg.message(chat, "/start")))
    assert all(clocked.recorder.sent_at(chat) for chat in chats)
    assert 0 < sender.chat_pace.waiting_chats() <= 50
    clocked.clock.advance(sender.chat_pace.interval)
    assert sender.chat_pace.waiting_chats() == 0


def test_chats_behind_stay_bounded_and_answer_maybe_for_all_past_the_limit() -> None:
    behind = ChatsBehind(limit=3)
    for chat in (1, 2, 3):
        behind.add(chat)
    assert not behind.may_have_older(4)
    behind.add(4)  # past the limit: no chat is named, every chat may be behind
    assert len(behind) == 0
    assert behind.may_have_older(5)
    seen_at = behind.generation
    behind.add(6)  # left to the loop after the loop looked: not forgotten
    behind.forget_all(seen_at=seen_at)
    assert behind.may_have_older(5)
    behind.forget_all(seen_at=behind.generation)
    assert not behind.may_have_older(5)
    assert not behind.remembers_any()
