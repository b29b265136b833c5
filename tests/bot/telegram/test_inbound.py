"""Reading updates: whatever a person sends becomes an input or a kind re-prompt."""

from __future__ import annotations

from bot.telegram.inbound import read_update
from flows.messages import Input
from tests.auxil import telegram_updates as tg


def test_text_and_commands() -> None:
    assert read_update(tg.message(7, "93500")).received == Input(text="93500")
    assert read_update(tg.message(7, "/start ML")).received == Input(text="/start ML")


def test_things_the_bot_cannot_read_are_reprompted() -> None:
    for update in (
        tg.message(7, sticker={"file_id": "s"}),
        tg.message(7, photo=[{"file_id": "p"}]),
        tg.message(7, voice={"file_id": "v"}),
        tg.message(7, location={"latitude": 48.9, "longitude": 2.3}),
    ):
        assert read_update(update).received == Input(command="repeat", payload="unsupported")
    assert read_update(tg.edited(7, "19")).received == Input(command="repeat", payload="edited")
    forwarded = tg.message(7, "19", forward_origin={"type": "hidden_user", "date": 1})
    assert read_update(forwarded).received == Input(command="repeat", payload="forwarded")


def test_only_the_person_s_own_contact_is_taken_as_their_number() -> None:
    assert read_update(tg.contact(7, "+33612345678")).received == Input(text="+33612345678")
    other = read_update(tg.contact(7, "+33600000000", own=False))
    assert other.received == Input(command="repeat", payload="not_own_contact")


def test_buttons_carry_their_step() -> None:
    inbound = read_update(tg.press(7, "c|consent|yes"))
    assert inbound.received == Input(choice="yes")
    assert inbound.button_step == "consent"
    assert inbound.callback_query_id is not None
    assert read_update(tg.press(7, "t|interests|5")).toggle_mask == 5
    assert read_update(tg.press(7, "m|interests|0")).submit_mask == 0
    assert read_update(tg.press(7, "garbage")).received == Input(
        command="repeat", payload="old_button"
    )


def test_groups_and_blocking() -> None:
    assert read_update(tg.group_message(-5, "hello")).chat_id is None
    assert read_update(tg.group_message(-5, "/start")).group
    assert read_update(tg.blocked(7)).blocked is True
    assert read_update(tg.blocked(7, status="member")).blocked is False
    assert read_update({"update_id": 1, "poll": {}}).chat_id is None
