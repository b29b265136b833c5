"""The one reminder of an unfinished WhatsApp conversation: an ordinary message with its
buttons inside the 24-hour window, the reminder template outside it, nothing without one."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from bot.clock import utcnow
from bot.settings import Settings
from bot.storage.models import Conversation
from tests.auxil import whatsapp_payloads as wa
from tests.auxil.whatsapp_chat import offered
from tests.auxil.whatsapp_harness import WhatsAppHarness, whatsapp_service

pytestmark = pytest.mark.db

TWO_DAYS_AGO = int(time.time()) - 2 * 24 * 3600


async def _remind_now(whatsapp: WhatsAppHarness) -> list[dict]:
    """Make the reminder fall due, run the reminders, and return what was sent."""
    async with whatsapp.app.state.database.transaction() as tx:
        await tx.run(
            update(Conversation)
            .where(Conversation.remind_at.is_not(None))
            .values(remind_at=utcnow())
        )
    before = len(whatsapp.fake.messages())
    reminders = whatsapp.runtime.pipeline.reminders
    assert reminders is not None  # Telegram is off: WhatsApp's runtime runs them
    await reminders.run_due()
    await whatsapp.settle()
    return whatsapp.fake.messages()[before:]


async def test_inside_the_window_the_reminder_asks_again_with_its_buttons(
    settings: Settings,
) -> None:
    async with whatsapp_service(settings) as whatsapp:
        await whatsapp.send(wa.text_message("Bonjour"))
        await whatsapp.send(wa.button_reply("c|consent|yes", "Oui, c'est OK"))
        [nudge] = await _remind_now(whatsapp)
    assert nudge["interactive"]["body"]["text"].startswith("Coucou")
    assert [reply_id for reply_id, _ in offered(nudge)][0].startswith("c|asker|")


async def test_outside_the_window_the_reminder_is_its_template(settings: Settings) -> None:
    async with whatsapp_service(
        settings, whatsapp_template_reminder="relance_orientation"
    ) as whatsapp:
        await whatsapp.send(wa.text_message("Bonjour", timestamp=TWO_DAYS_AGO))
        [nudge] = await _remind_now(whatsapp)
    assert nudge["type"] == "template"
    assert nudge["template"]["name"] == "relance_orientation"


async def test_outside_the_window_without_a_template_nothing_is_sent(settings: Settings) -> None:
    async with whatsapp_service(settings) as whatsapp:
        await whatsapp.send(wa.text_message("Bonjour", timestamp=TWO_DAYS_AGO))
        assert await _remind_now(whatsapp) == []
