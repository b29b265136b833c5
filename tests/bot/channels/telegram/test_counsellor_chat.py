"""The counsellors and a Telegram user: the group's notice of a lead, and a counsellor writing
to the person through the bot, the script paused meanwhile."""

from __future__ import annotations

import re

import pytest

from bot.channels.writers import Writers
from bot.clock import utcnow
from bot.conversations.counsellor import hand_back, send_staff_message
from bot.leads.notices import WORD_JOINER
from bot.settings import Settings
from tests.auxil import telegram_updates as tg
from tests.auxil.personas import persona_params
from tests.auxil.telegram_chat import CHAT, converse
from tests.auxil.telegram_harness import TelegramHarness

GROUP = -1001234567


@pytest.fixture
def telegram_settings(telegram_settings: Settings) -> Settings:
    return telegram_settings.model_copy(
        update={"counsellor_chat_id": GROUP, "public_url": "https://aiguillage.example"}
    )


async def become_a_lead(telegram: TelegramHarness, first_name: str | None = None) -> None:
    persona = persona_params()[0].values[0]
    assert persona is not None
    await converse(telegram, persona["profile"], "/start ML_POISSY", first_name=first_name)


async def test_the_counsellors_group_is_told_of_a_new_lead(telegram: TelegramHarness) -> None:
    await become_a_lead(telegram)
    [notice] = [
        c.params for c in telegram.recorder.calls_to("sendMessage") if c.params["chat_id"] == GROUP
    ]
    assert notice["text"].startswith("📥 Nouvelle demande : Samir")
    assert " · Telegram\n" in notice["text"]  # the channel the person can be answered on
    assert "https://aiguillage.example/admin/leads/" in notice["text"]
    assert "+336" not in notice["text"]


async def test_a_first_name_that_is_a_link_reaches_the_group_as_plain_text(
    telegram: TelegramHarness,
) -> None:
    await become_a_lead(telegram, first_name="http://evil.example/admin/login")
    [notice] = [
        c.params for c in telegram.recorder.calls_to("sendMessage") if c.params["chat_id"] == GROUP
    ]
    assert notice["link_preview_options"] == {"is_disabled": True}
    assert "entities" not in notice
    assert "parse_mode" not in notice
    name = notice["text"].removeprefix("📥 Nouvelle demande : ").split(" · ")[0]
    # Reads the same, but Telegram finds no scheme and no domain in it to make a link of.
    assert name.replace(WORD_JOINER, "") == "http://evil.example/admin/login"
    assert "://" not in name
    assert not re.search(r"[\w-]+\.[a-z]{2,}", name)


async def test_the_person_gets_the_message_the_script_waits_then_resumes(
    telegram: TelegramHarness,
) -> None:
    await become_a_lead(telegram)
    database = telegram.app.state.database
    async with database.transaction() as tx:
        lead = await tx.fetch_one("SELECT id FROM leads")
        assert lead is not None
        await send_staff_message(
            tx,
            Writers(),
            lead["id"],
            author="camille@poles.example",
            body="Bonjour, on se parle ?",
            now=utcnow(),
        )
    await telegram.settle()
    [message] = [c.params for c in telegram.recorder.calls_to("sendMessage")[-1:]]
    assert message["chat_id"] == CHAT
    assert "Bonjour, on se parle ?" in message["text"]
    assert "conseiller" in message["text"]

    # The person answers: no reply from the script; the answer is kept for the lead page.
    assert await telegram.send(tg.message(CHAT, "Oui, demain à 10 h")) == []
    async with database.transaction() as tx:
        last = await tx.fetch_one(
            "SELECT direction, body FROM transcript_entries ORDER BY id DESC LIMIT 1"
        )
    assert last == {"direction": "in", "body": "Oui, demain à 10 h"}
    # Data rights are never paused: /mes_donnees answers while the counsellor holds the talk.
    assert await telegram.send(tg.message(CHAT, "/mes_donnees"))

    async with database.transaction() as tx:
        await hand_back(tx, telegram.app.state.conversations, lead["id"], now=utcnow())
    await telegram.settle()
    resumed = telegram.recorder.calls_to("sendMessage")[-1].params
    assert "redonné la main" in resumed["text"]
