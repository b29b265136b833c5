"""The 24-hour window, at its edges, on a controlled clock: free-form inside, the purpose's
template outside, nothing (the counsellor phones) without one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.whatsapp import CHANNEL
from bot.channels.whatsapp.updates import position_of
from bot.channels.writers import WhatsAppTemplates, Writers
from bot.messaging import inbox
from bot.messaging.inbox import Delivery
from bot.storage.database import Database
from flows.render import RenderedMessage

pytestmark = pytest.mark.db

PERSON = "33611223344"
WROTE_AT = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)
MESSAGE = [RenderedMessage(text="Bonjour,\n\non se rappelle demain ?")]
TEMPLATES = WhatsAppTemplates(
    reminder="relance", counsellor="message_conseiller", appointment="rappel_rendez_vous"
)


async def _person_wrote(database: Database, at: datetime) -> None:
    position = position_of(int(at.timestamp()), 0)
    delivery = Delivery(CHANNEL, f"wamid.{position}", position, {"wa_id": PERSON})
    async with database.transaction() as tx:
        await inbox.accept(tx, delivery, int(PERSON), processed=True)


async def _calls(database: Database, writers: Writers, now: datetime, purpose: str) -> list:
    async with database.transaction() as tx:
        return (
            await writers.calls_to(
                tx,
                CHANNEL,
                PERSON,
                MESSAGE,
                step=None,
                language="fr",
                purpose=purpose,  # type: ignore[arg-type]
                now=now,
            )
            or []
        )


@pytest.mark.parametrize("purpose", ["counsellor", "reminder"])
async def test_a_message_in_the_window_is_free_form(database: Database, purpose: str) -> None:
    await _person_wrote(database, WROTE_AT)
    just_inside = WROTE_AT + timedelta(hours=23, minutes=58)
    [call] = await _calls(database, Writers(TEMPLATES), just_inside, purpose)
    assert call.payload["type"] == "text"
    assert call.payload["to"] == PERSON


async def test_past_the_window_a_counsellor_writes_with_their_template(database: Database) -> None:
    await _person_wrote(database, WROTE_AT)
    closed = WROTE_AT + timedelta(hours=24)
    [call] = await _calls(database, Writers(TEMPLATES), closed, "counsellor")
    template = call.payload["template"]
    assert template["name"] == "message_conseiller"
    assert template["language"] == {"code": "fr"}
    [parameter] = template["components"][0]["parameters"]
    assert parameter["text"] == "Bonjour, on se rappelle demain ?"  # one line, as Meta wants


async def test_past_the_window_a_session_reminder_carries_its_text_in_its_template(
    database: Database,
) -> None:
    await _person_wrote(database, WROTE_AT)
    [call] = await _calls(database, Writers(TEMPLATES), WROTE_AT + timedelta(days=2), "appointment")
    template = call.payload["template"]
    assert template["name"] == "rappel_rendez_vous"
    [parameter] = template["components"][0]["parameters"]
    assert parameter["text"] == "Bonjour, on se rappelle demain ?"


async def test_past_the_window_a_reminder_uses_its_template_without_parameters(
    database: Database,
) -> None:
    await _person_wrote(database, WROTE_AT)
    [call] = await _calls(database, Writers(TEMPLATES), WROTE_AT + timedelta(days=2), "reminder")
    assert call.payload["template"]["name"] == "relance"
    assert "components" not in call.payload["template"]


async def test_without_a_template_nothing_is_sent_past_the_window(database: Database) -> None:
    await _person_wrote(database, WROTE_AT)
    assert await _calls(database, Writers(), WROTE_AT + timedelta(hours=24), "counsellor") == []


async def test_the_newest_message_reopens_the_window(database: Database) -> None:
    await _person_wrote(database, WROTE_AT)
    await _person_wrote(database, WROTE_AT + timedelta(hours=30))
    [call] = await _calls(database, Writers(), WROTE_AT + timedelta(hours=31), "counsellor")
    assert call.payload["type"] == "text"
