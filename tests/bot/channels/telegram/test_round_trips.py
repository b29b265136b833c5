"""What a Telegram step costs the database, in messages to PostgreSQL (see bench/)."""

from __future__ import annotations

import pytest

from tests.auxil import telegram_updates as tg
from tests.auxil.round_trips import asyncpg_messages
from tests.auxil.telegram_chat import button_for
from tests.auxil.telegram_harness import TelegramHarness


@pytest.mark.postgresql_only
async def test_a_telegram_step_takes_four_round_trips_on_postgresql(
    telegram: TelegramHarness,
) -> None:
    """BEGIN with the lock; the update with the conversation; the step's writes with its
    replies; the "sent" marks with COMMIT. Each more costs CPU on every message (bench/)."""
    chat = 4242
    sent = await telegram.send(tg.message(chat, "/start"))
    sent = await telegram.send(tg.press(chat, button_for(sent[-1], "yes")))
    with asyncpg_messages() as messages:
        await telegram.post(tg.press(chat, button_for(sent[-1], "self")))
        assert len(messages) <= 4, messages
        messages.clear()
        await telegram.post(tg.message(chat, "23"))
        assert len(messages) <= 4, messages
