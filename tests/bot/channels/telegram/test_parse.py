"""Reading updates: whatever a person sends becomes an input or a kind re-prompt."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.channels.payloads import MAX_DEPTH, MalformedUpdate, clean_update
from bot.channels.telegram.parse import chat_of, read_update
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


def test_a_group_command_keeps_the_sender_s_language() -> None:
    inbound = read_update(tg.group_message(-5, "/start", language="en"))
    assert (inbound.chat_id, inbound.group, inbound.language_code) == (-5, True, "en")


def test_album_parts_carry_their_album() -> None:
    first, second = tg.album(7, 2, group_id="42")
    assert read_update(first).media_group_id == read_update(second).media_group_id == "42"
    assert read_update(tg.message(7, photo=[{"file_id": "p"}])).media_group_id is None


def test_a_press_without_a_private_chat_is_still_answered_in_the_presser_s_language() -> None:
    inbound = read_update(tg.inline_press(7, "c|consent|yes", language="en"))
    assert inbound.chat_id is None
    assert inbound.callback_query_id is not None
    assert inbound.language_code == "en"


def test_forged_shapes_name_no_chat_and_raise_nothing() -> None:
    forged: list[dict[str, Any]] = [
        {"update_id": 1, "message": {"chat": "x", "text": "hi"}},
        {"update_id": 2, "message": {"chat": {"id": "7", "type": "private"}, "text": "hi"}},
        {"update_id": 3, "message": ["x"]},
        {"update_id": 4, "edited_message": None},
        {"update_id": 5, "callback_query": "x"},
        {"update_id": 6, "callback_query": {"message": {"chat": 7}, "from": "x"}},
        {"update_id": 7, "my_chat_member": {"chat": [], "new_chat_member": "x"}},
    ]
    for update in forged:
        assert read_update(update).chat_id is None
        assert chat_of(update) is None
    private = tg.message(7, "hi")
    private["message"]["from"] = "x"  # a sender that is not an object: still their message
    assert read_update(private).received == Input(text="hi")


def test_lone_surrogates_are_left_out_and_the_rest_kept() -> None:
    update = tg.message(7, "19\ud83d")
    update["message"]["entities"] = [{"type": "bold\udc00", "\ud800key": 1}]
    cleaned = clean_update(update)
    assert cleaned["message"]["text"] == "19"
    assert cleaned["message"]["entities"] == [{"type": "bold", "key": 1}]
    assert clean_update(tg.message(7, "Salut 😀"))["message"]["text"] == "Salut 😀"


def test_an_update_nested_past_telegram_s_depth_is_malformed() -> None:
    nested: dict[str, Any] = {}
    for _ in range(MAX_DEPTH):
        nested = {"a": nested}
    with pytest.raises(MalformedUpdate):
        clean_update({"update_id": 1, "message": nested})
    assert clean_update(tg.press(7, "c|consent|yes"))["callback_query"]["data"] == "c|consent|yes"


def test_the_raw_json_lets_ordinary_updates_through_and_still_catches_surrogates() -> None:
    body = json.dumps(tg.message(7, "19")).replace('"19"', '"19\\uD83D"').encode()
    assert clean_update(json.loads(body), body)["message"]["text"] == "19"
    ordinary = json.dumps(tg.message(7, "Salut 😀"), ensure_ascii=True).encode()
    assert clean_update(json.loads(ordinary), ordinary)["message"]["text"] == "Salut 😀"
