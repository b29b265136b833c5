"""A counsellor writing to a Telegram user through the bot, the script paused meanwhile."""

from __future__ import annotations

from bot.counsellor_chat import hand_back, send_staff_message
from bot.storage.types import utcnow
from tests.auxil import telegram_updates as tg
from tests.auxil.personas import answer_for
from tests.bot.telegram.conftest import TelegramHarness
from tests.bot.telegram.test_channel import CHAT, _answer, _question, state_of
from tests.conftest import persona_params


async def test_the_person_gets_the_message_the_script_waits_then_resumes(
    telegram: TelegramHarness,
) -> None:
    profile = persona_params()[0].values[0]
    assert profile is not None
    sent = await telegram.send(tg.message(CHAT, "/start ML_POISSY"))
    for _ in range(40):
        state = await state_of(telegram)
        assert state is not None
        if state.done:
            break
        question = await _question(telegram)
        sent = await _answer(telegram, sent[-1], answer_for(question, profile["profile"]), question)
    database = telegram.app.state.database
    async with database.transaction() as tx:
        lead = await tx.fetch_one("SELECT id FROM leads")
        assert lead is not None
        await send_staff_message(
            tx,
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
