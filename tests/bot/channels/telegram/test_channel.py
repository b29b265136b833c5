"""The Telegram channel end to end through the webhook endpoint, on a recording request."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy import update as update_rows
from sqlalchemy.orm import InstrumentedAttribute

from bot.clock import utcnow
from bot.storage.models import Conversation, InboxUpdate, OutboxMessage
from flows import engine
from flows.i18n import text as message_text
from flows.profile import Profile
from flows.rules import orient
from tests.auxil import telegram_updates as tg
from tests.auxil.personas import persona_params
from tests.auxil.stored_rows import conversation_row, count_rows, telegram_update_row
from tests.auxil.telegram_chat import CHAT, buttons, converse, state_of
from tests.auxil.telegram_harness import SECRET, TelegramHarness


@pytest.mark.parametrize("persona", persona_params())
async def test_a_persona_goes_from_a_referral_link_to_its_orientation(
    persona: dict[str, Any], telegram: TelegramHarness
) -> None:
    profile = persona["profile"]
    state = await converse(telegram, profile, "/start ML_POISSY")
    expected = orient(Profile.model_validate(profile)).model_dump(mode="json")
    assert engine.current_orientation(state).model_dump(mode="json") == expected  # type: ignore[union-attr]
    row = await conversation_row(telegram.app.state.database)
    assert row is not None
    assert row.referrer_code == "ML_POISSY"
    presses = len([u for u in telegram.recorder.calls_to("answerCallbackQuery")])
    assert presses > 3  # every press was answered


async def test_the_webhook_refuses_a_wrong_or_missing_secret(telegram: TelegramHarness) -> None:
    assert (await telegram.post(tg.message(CHAT, "hi"), secret="wrong")).status_code == 403
    assert (await telegram.post(tg.message(CHAT, "hi"), secret=None)).status_code == 403
    assert (await telegram.post({"no": "update_id"})).status_code == 400
    assert await count_rows(telegram.app.state.database, InboxUpdate) == 0


async def test_the_webhook_refuses_malformed_deliveries_with_a_reason(
    telegram: TelegramHarness,
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    url = "/telegram/webhook"
    cases = [
        (await telegram.client.get(url, headers=headers), 405),
        (await telegram.client.post(url, content=b"{not json", headers=headers), 400),
        (await telegram.client.post(url, content=b"\xff\xfe", headers=headers), 400),
        (await telegram.client.post(url, json=[1, 2], headers=headers), 400),
        (await telegram.client.post(url, json={"update_id": "7"}, headers=headers), 400),
        (await telegram.client.post(url, content=b" " * 1_000_001, headers=headers), 413),
    ]
    for response, status in cases:
        assert response.status_code == status
        assert response.json()["detail"]
    assert await count_rows(telegram.app.state.database, InboxUpdate) == 0


async def test_an_update_is_applied_before_the_webhook_answers(
    telegram: TelegramHarness, caplog: pytest.LogCaptureFixture
) -> None:
    start = tg.message(CHAT, "/start")
    response = await telegram.post(start)
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    stored = await telegram_update_row(telegram.app.state.database, start["update_id"])
    assert stored is not None
    assert stored.processed_at is not None  # applied in the request, not by a later scan
    assert stored.attempts == 1
    assert len(telegram.recorder.sent_texts(CHAT)) == 1


async def test_the_webhook_answer_stops_the_button_spinner(telegram: TelegramHarness) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    press = tg.press(CHAT, "c|consent|yes")
    response = await telegram.post(press)
    query_id = press["callback_query"]["id"]
    # Telegram makes the call carried by the response: no outbox row, no extra HTTP call.
    assert response.json() == {"method": "answerCallbackQuery", "callback_query_id": query_id}
    async with telegram.app.state.database.transaction() as tx:
        methods = await tx.scalars(select(OutboxMessage.method))
    assert "answerCallbackQuery" not in methods


async def test_a_retried_update_is_processed_once(telegram: TelegramHarness) -> None:
    update = tg.message(CHAT, "/start")
    await telegram.send(update)
    assert len(await telegram.send(update)) == 0
    assert len(telegram.recorder.sent_texts(CHAT)) == 1


async def test_updates_of_one_chat_are_processed_in_order(telegram: TelegramHarness) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    first, second = tg.press(CHAT, "c|consent|yes"), tg.press(CHAT, "c|asker|self")
    # The first was stored but not applied yet (its worker died, say) when the second arrives.
    async with telegram.app.state.database.transaction() as tx:
        await tx.run(
            insert(InboxUpdate).values(
                channel="telegram",
                delivery_id=str(first["update_id"]),
                position=first["update_id"],
                chat_id=CHAT,
                payload=first,
            )
        )
    second["update_id"] = first["update_id"] + 1
    await telegram.post(second)
    state = await state_of(telegram)
    assert state is not None
    assert state.answers == {}  # the second waits for the first
    await telegram.settle()
    state = await state_of(telegram)
    assert state is not None
    assert state.answers == {"consent": "yes", "asker": "self"}
    assert state.step == "age"


@pytest.mark.parametrize(
    "update",
    [
        tg.message(CHAT, sticker={"file_id": "s"}),
        tg.message(CHAT, photo=[{"file_id": "p"}]),
        tg.message(CHAT, voice={"file_id": "v", "duration": 1}),
        tg.message(CHAT, location={"latitude": 48.9, "longitude": 2.3}),
        tg.edited(CHAT, "12"),
        tg.message(CHAT, "12", forward_origin={"type": "hidden_user", "date": 1}),
        tg.press(CHAT, "c|consent|no"),
        tg.press(CHAT, "nonsense"),
        tg.message(CHAT, "🙂" * 5000),
    ],
    ids=[
        "sticker",
        "photo",
        "voice",
        "location",
        "edited",
        "forwarded",
        "old-button",
        "bad-data",
        "huge",
    ],
)
async def test_anything_else_gets_a_kind_reprompt_and_changes_no_answer(
    update: dict[str, Any], telegram: TelegramHarness
) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    await telegram.send(tg.press(CHAT, "c|consent|yes"))
    await telegram.send(tg.press(CHAT, "c|asker|self"))
    before = await state_of(telegram)
    sent = await telegram.send(update)
    after = await state_of(telegram)
    assert before is not None
    assert after is not None
    assert after.answers == before.answers
    assert after.step == "age"
    assert sent
    assert sent[-1]["text"].endswith("Quel âge as-tu ?")


async def test_a_group_gets_one_polite_answer_and_nothing_is_kept(
    telegram: TelegramHarness,
) -> None:
    sent = await telegram.send(tg.group_message(-100, "/start"))
    assert "message privé" in sent[0]["text"]
    assert await telegram.send(tg.group_message(-100, "bonjour")) == []
    # Once per group: the next member trying a command is not answered again.
    assert await telegram.send(tg.group_message(-100, "/start")) == []
    assert await count_rows(telegram.app.state.database, Conversation) == 0


async def test_a_group_is_answered_in_the_language_of_the_sender(
    telegram: TelegramHarness,
) -> None:
    sent = await telegram.send(tg.group_message(-200, "/start", language="en"))
    assert sent[0]["text"] == message_text("repeat.group", "en")
    assert sent[0]["text"] != message_text("repeat.group", "fr")


async def test_a_photo_album_gets_one_reprompt(telegram: TelegramHarness) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    sent = []
    for part in tg.album(CHAT, 4):
        sent += await telegram.send(part)
    assert len(sent) == 1
    assert sent[0]["text"].startswith("Je ne sais lire que du texte")
    # Another album later is another message: it gets its own re-prompt.
    sent = []
    for part in tg.album(CHAT, 2, group_id="99"):
        sent += await telegram.send(part)
    assert len(sent) == 1


async def test_a_press_on_an_inline_message_is_answered(telegram: TelegramHarness) -> None:
    press = tg.inline_press(CHAT, "c|consent|yes")
    response = await telegram.post(press)
    assert response.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": press["callback_query"]["id"],
        "text": message_text("telegram.press_elsewhere", "fr"),
    }
    stored = await telegram_update_row(telegram.app.state.database, press["update_id"])
    assert stored is not None
    assert stored.processed_at is not None


async def test_an_inline_press_taken_by_polling_is_answered_through_the_outbox(
    telegram: TelegramHarness,
) -> None:
    await telegram.runtime.accept(tg.inline_press(CHAT, "c|consent|yes"))
    await telegram.settle()
    [answer] = telegram.recorder.calls_to("answerCallbackQuery")
    assert answer.params["text"] == message_text("telegram.press_elsewhere", "fr")


async def test_a_lone_surrogate_is_left_out_and_the_answer_kept(
    telegram: TelegramHarness,
) -> None:
    for update in (
        tg.message(CHAT, "/start"),
        tg.press(CHAT, "c|consent|yes"),
        tg.press(CHAT, "c|asker|self"),
    ):
        await telegram.send(update)
    body = json.dumps(tg.message(CHAT, "19")).replace('"19"', '"19\\ud83d"').encode()
    response = await telegram.client.post(
        "/telegram/webhook", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 200
    await telegram.settle()
    state = await state_of(telegram)
    assert state is not None
    assert state.answers["age"] == 19
    assert telegram.recorder.sent_texts(CHAT)[-1].endswith("Quel est ton code postal ?")


@pytest.mark.parametrize(
    "encode",
    [
        # Half an emoji written as UTF-8 bytes (ED A0 BD): not UTF-8, yet Python's parser reads it.
        lambda body: body.replace(b'"19"', b'"19\xed\xa0\xbd"'),
        # The escape in a UTF-16 body, where the search for "\ud" in the bytes cannot see it.
        lambda body: body.replace(b'"19"', b'"19\\ud83d"').decode().encode("utf-16-le"),
    ],
    ids=["surrogate-bytes", "utf-16"],
)
async def test_a_body_that_is_not_utf_8_is_refused_before_any_half_emoji_gets_in(
    encode: Callable[[bytes], bytes], telegram: TelegramHarness
) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    body = encode(json.dumps(tg.message(CHAT, "19")).encode())
    response = await telegram.client.post(
        "/telegram/webhook", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "body is not JSON"}
    assert await count_rows(telegram.app.state.database, InboxUpdate) == 1


def _nested(depth: int) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for _ in range(depth):
        nested = {"a": nested}
    return nested


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"update_id": 91, "message": {"chat": "x", "text": "hi"}}),
        json.dumps({"update_id": 92, "message": "hello"}),
        json.dumps({"update_id": 93, "callback_query": [1]}),
        json.dumps(tg.message(CHAT, "hi", entities=[_nested(40)], update_id=94)),
        '{"update_id": 95, "message": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["chat-not-an-object", "message-not-an-object", "press-not-an-object", "deep", "deeper"],
)
async def test_a_forged_update_is_ignored_at_once_without_a_traceback(
    body: str, telegram: TelegramHarness, caplog: pytest.LogCaptureFixture
) -> None:
    response = await telegram.client.post(
        "/telegram/webhook",
        content=body.encode(),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 200
    await telegram.settle()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    ignored = [r for r in caplog.records if r.getMessage().startswith("telegram update ignored")]
    assert len(ignored) == 1  # one line for the operator, nothing of the content
    assert telegram.recorder.calls_to("sendMessage") == []
    database = telegram.app.state.database
    pending = await count_rows(database, InboxUpdate, InboxUpdate.processed_at.is_(None))
    retried = await count_rows(database, InboxUpdate, InboxUpdate.attempts > 1)
    assert (pending, retried) == (0, 0)


async def test_multi_select_toggles_redraw_the_keyboard(telegram: TelegramHarness) -> None:
    for update in (
        tg.message(CHAT, "/start"),
        tg.press(CHAT, "c|consent|yes"),
        tg.press(CHAT, "c|asker|self"),
    ):
        await telegram.send(update)
    for text in ("19", "93500"):
        await telegram.send(tg.message(CHAT, text))
    await telegram.send(tg.press(CHAT, "c|situation|none"))
    sent = await telegram.send(tg.press(CHAT, "c|diploma_level|3"))
    assert buttons(sent[-1])[0]["callback_data"] == "t|allowances|1"
    await telegram.send(tg.press(CHAT, "t|allowances|1"))
    redrawn = telegram.recorder.calls_to("editMessageReplyMarkup")[-1].params
    assert buttons(redrawn)[0]["text"].startswith("✅")
    await telegram.send(tg.press(CHAT, "m|allowances|1"))
    state = await state_of(telegram)
    assert state is not None
    assert state.answers["criteria"] == ["rsa"]


async def test_sharing_the_contact_gives_a_normalised_number(telegram: TelegramHarness) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    await telegram.send(tg.press(CHAT, "c|consent|yes"))
    await telegram.send(tg.message(CHAT, "/conseiller"))
    await telegram.send(tg.message(CHAT, "Awa"))
    sent = await telegram.send(tg.press(CHAT, "c|contact_preference|call"))
    assert sent[-1]["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    sent = await telegram.send(tg.contact(CHAT, "33612345678"))
    state = await state_of(telegram)
    assert state is not None
    assert state.answers["phone"] == "+33612345678"
    # The share-my-number keyboard goes away; the summary's buttons come with the question.
    assert sent[0]["reply_markup"] == {"remove_keyboard": True}
    assert "inline_keyboard" in sent[-1]["reply_markup"]


async def test_my_data_then_erasure_after_confirmation(telegram: TelegramHarness) -> None:
    await telegram.send(tg.message(CHAT, "/start ML_POISSY"))
    await telegram.send(tg.press(CHAT, "c|consent|yes"))
    await telegram.send(tg.press(CHAT, "c|asker|self"))
    await telegram.send(tg.message(CHAT, "19"))
    shown = await telegram.send(tg.message(CHAT, "/mes_donnees"))
    assert "• ton âge : 19" in shown[0]["text"]
    assert "ML_POISSY" in shown[0]["text"]
    asked = await telegram.send(tg.message(CHAT, "/supprimer"))
    assert "effacer" in asked[-1]["text"]
    kept = await telegram.send(tg.press(CHAT, "c||erase_no"))
    assert "n'efface rien" in kept[0]["text"]
    await telegram.send(tg.message(CHAT, "/supprimer"))
    done = await telegram.send(tg.press(CHAT, "c||erase_yes"))
    assert "j'ai tout effacé" in done[0]["text"]
    assert await count_rows(telegram.app.state.database, Conversation) == 0
    async with telegram.app.state.database.transaction() as tx:
        payloads = await tx.scalars(select(InboxUpdate.payload).order_by(InboxUpdate.position))
        outbox = await tx.scalars(select(OutboxMessage.payload))
    assert all(p == {} for p in payloads[:-1])
    assert all("19" not in str(p) for p in outbox)


async def test_blocking_the_bot_marks_the_person_unreachable(telegram: TelegramHarness) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    await telegram.send(tg.blocked(CHAT))
    row = await conversation_row(telegram.app.state.database)
    assert row is not None
    assert row.unreachable_at is not None


async def test_a_403_on_send_marks_unreachable_and_a_429_is_retried_not_dropped(
    telegram: TelegramHarness,
) -> None:
    telegram.recorder.fail_next("sendMessage", status=429, retry_after=1)
    await telegram.send(tg.message(CHAT, "/start"))
    assert telegram.recorder.sent_texts(CHAT) == []
    await asyncio.sleep(1.1)
    await telegram.settle()
    assert len(telegram.recorder.sent_texts(CHAT)) == 1
    telegram.recorder.fail_chat(CHAT)
    await telegram.send(tg.press(CHAT, "c|consent|yes"))
    row = await conversation_row(telegram.app.state.database)
    assert row is not None
    assert row.unreachable_at is not None


async def due_now(h: TelegramHarness, column: InstrumentedAttribute[datetime | None]) -> None:
    """Make the conversation's reminder or closing fall due, as if the time had passed."""
    async with h.app.state.database.transaction() as tx:
        # Only a time already scheduled is brought forward: the step must have set it.
        changed = await tx.run(
            update_rows(Conversation).where(column.is_not(None)).values({column: utcnow()})
        )
    assert changed == 1


async def test_one_reminder_after_the_delay_cancelled_by_an_answer(
    telegram: TelegramHarness,
) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    await telegram.send(tg.press(CHAT, "c|consent|yes"))
    await due_now(telegram, Conversation.remind_at)
    await telegram.runtime.pipeline.reminders.run_due()
    await telegram.settle()
    nudge = telegram.recorder.sent_texts(CHAT)[-1]
    assert nudge.startswith("Coucou")
    assert nudge.endswith("C'est pour toi, ou pour ton enfant ?")
    await telegram.send(tg.press(CHAT, "c|asker|self"))
    row = await conversation_row(telegram.app.state.database)
    assert row is not None
    # One reminder only: after an answer just the closing is scheduled again.
    assert row.remind_at is None
    assert row.close_at is not None
    await telegram.runtime.pipeline.reminders.run_due()
    await telegram.settle()
    assert sum(t.startswith("Coucou") for t in telegram.recorder.sent_texts(CHAT)) == 1


async def test_an_answer_before_the_delay_cancels_the_reminder(telegram: TelegramHarness) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    first = await conversation_row(telegram.app.state.database)
    await telegram.send(tg.press(CHAT, "c|consent|yes"))
    later = await conversation_row(telegram.app.state.database)
    assert first is not None
    assert later is not None
    assert first.remind_at is not None
    assert later.remind_at is not None
    assert later.remind_at > first.remind_at  # the delay starts again from the last answer


async def test_an_abandoned_conversation_is_closed_after_a_week(telegram: TelegramHarness) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    await due_now(telegram, Conversation.close_at)
    await telegram.runtime.pipeline.reminders.run_due()
    row = await conversation_row(telegram.app.state.database)
    assert row is not None
    assert row.status == "closed"


async def test_a_finished_conversation_gets_no_reminder(telegram: TelegramHarness) -> None:
    await telegram.send(tg.message(CHAT, "/start"))
    await telegram.send(tg.press(CHAT, "c|consent|no"))
    row = await conversation_row(telegram.app.state.database)
    assert row is not None
    assert (row.remind_at, row.close_at) == (None, None)


async def test_the_command_menu_is_published_in_french_and_english(
    telegram: TelegramHarness,
) -> None:
    menus = telegram.recorder.calls_to("setMyCommands")
    assert {c.params.get("language_code") for c in menus} == {"fr", "en", None}
    names = [c["command"] for c in menus[0].params["commands"]]
    assert names == [
        "start",
        "retour",
        "recommencer",
        "conseiller",
        "langue",
        "mes_donnees",
        "supprimer",
    ]
