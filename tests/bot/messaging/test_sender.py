"""The outbox sender under bursts: one chat's replies in order, a second apart, each sent once."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.storage.database import Database
from bot.storage.models import OutboxMessage
from tests.auxil import telegram_updates as tg
from tests.auxil.telegram_harness import ClockedTelegram

CHAT = 5557000
AGE = "Quel âge as-tu ?"
POSTAL_CODE = "Quel est ton code postal ?"


async def _reach_the_age_question(h: ClockedTelegram) -> None:
    for update in (
        tg.message(CHAT, "/start"),
        tg.press(CHAT, "c|consent|yes"),
        tg.press(CHAT, "c|asker|self"),
    ):
        await h.clock.run(h.runtime.accept(update))


async def test_a_burst_from_one_chat_gets_its_replies_in_order_a_second_apart(
    clocked: ClockedTelegram,
) -> None:
    await _reach_the_age_question(clocked)
    before = len(clocked.recorder.sent_at(CHAT))
    # 22 updates at once (a photo album, someone typing fast): each reply alternates between
    # the postal code question (after an age) and the age question (after /retour).
    burst = [tg.message(CHAT, "19" if n % 2 == 0 else "/retour") for n in range(22)]
    await clocked.clock.run(asyncio.gather(*(clocked.runtime.accept(u) for u in burst)))
    sent = clocked.recorder.sent_at(CHAT)[before:]
    assert [text.endswith(POSTAL_CODE) for text, _ in sent] == [n % 2 == 0 for n in range(22)]
    gaps = [later - earlier for (_, earlier), (_, later) in zip(sent, sent[1:], strict=False)]
    assert min(gaps) >= 1.0  # Telegram's pace: about one message a second in a chat


async def _outbox(h: ClockedTelegram) -> list[tuple[int, int, datetime | None, datetime | None]]:
    """Each outbox row: id, claims, lease and when it was sent."""
    database: Database = h.app.state.database
    async with database.transaction() as tx:
        return await tx.all(
            select(
                OutboxMessage.id,
                OutboxMessage.attempts,
                OutboxMessage.lease_until,
                OutboxMessage.sent_at,
            ).order_by(OutboxMessage.id)
        )


async def _wait_for_claim(h: ClockedTelegram, message_id: int) -> None:
    """Until the background loop has claimed the row (its claim count went up)."""
    async with asyncio.timeout(10):
        while True:
            if any(row[:2] == (message_id, 1) for row in await _outbox(h)):
                return
            await asyncio.sleep(0.01)


async def test_a_reply_that_waited_past_its_lease_is_sent_once(clocked: ClockedTelegram) -> None:
    sender, processor = clocked.runtime.pipeline.sender, clocked.runtime.pipeline.processor
    # Telegram asked us to slow down: the step's reply waits in the pace queue.
    sender.pace.pause(100)
    await processor.accept(tg.message(CHAT, "/start"))
    await clocked.clock.sleeping.wait()
    [(reply_id, _, lease_until, _)] = await _outbox(clocked)
    assert lease_until is not None
    # Past the reply's lease, the background loop claims the row and waits its turn too.
    clocked.clock.advance((lease_until - clocked.clock.utcnow()).total_seconds() + 1)
    loop = asyncio.ensure_future(sender.send_pending())
    await _wait_for_claim(clocked, reply_id)
    await clocked.clock.run(asyncio.gather(processor.drain(), loop))
    await sender.flush()
    assert len(clocked.recorder.sent_at(CHAT)) == 1
    [(row_id, _, _, sent_at)] = await _outbox(clocked)
    assert row_id == reply_id
    assert sent_at is not None


async def test_a_step_whose_lease_ran_out_unclaimed_still_sends_its_reply(
    clocked: ClockedTelegram,
) -> None:
    sender, processor = clocked.runtime.pipeline.sender, clocked.runtime.pipeline.processor
    sender.pace.pause(100)
    await processor.accept(tg.message(CHAT, "/start"))
    # Nobody else took the row: the lease is renewed before the call, and the reply goes out.
    await clocked.clock.run(processor.drain())
    await sender.flush()
    assert len(clocked.recorder.sent_at(CHAT)) == 1
    [(_, _, _, sent_at)] = await _outbox(clocked)
    assert sent_at is not None


async def test_parameters_a_method_does_not_name_are_still_sent(clocked: ClockedTelegram) -> None:
    payload: dict[str, Any] = {"chat_id": CHAT, "text": "Bonjour", "future_option": True}
    await clocked.clock.run(clocked.runtime.pipeline.sender.messenger.call("sendMessage", payload))
    [(method, params, _)] = clocked.recorder.stamped[-1:]
    assert method == "sendMessage"
    assert params == payload


async def test_a_reply_waiting_for_a_retry_is_not_overtaken_by_the_next(
    clocked: ClockedTelegram,
) -> None:
    await _reach_the_age_question(clocked)
    sender = clocked.runtime.pipeline.sender
    clocked.recorder.fail_next("sendMessage", status=429, retry_after=5)
    await clocked.clock.run(clocked.runtime.accept(tg.message(CHAT, "19")))
    await clocked.clock.run(clocked.runtime.accept(tg.message(CHAT, "/retour")))
    clocked.clock.advance(5)
    while await clocked.clock.run(sender.send_pending()):
        pass
    texts = [text for text, _ in clocked.recorder.sent_at(CHAT)]
    assert texts[-2].endswith(POSTAL_CODE)  # the retried reply to "19" first
    assert texts[-1].endswith(AGE)  # then the reply to "/retour"
