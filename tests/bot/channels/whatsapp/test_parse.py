"""Reading notifications: whatever a person sends becomes an input or a kind re-prompt, and
nothing a forged notification holds makes the channel fail."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from bot.channels.whatsapp.parse import (
    Inbound,
    items_of,
    numbered_answer,
    read_item,
    value_errors,
)
from bot.channels.whatsapp.updates import Item
from bot.partners.whatsapp_link import whatsapp_first_message
from flows import engine
from flows.flow_loader import load_flows
from flows.i18n import text
from flows.messages import Input
from flows.render import RenderedChoice, RenderedQuestion, render_turn
from tests.auxil import whatsapp_payloads as wp

OWN_NUMBER = "+" + wp.USER_WA_ID
CHAT = int(wp.USER_WA_ID)


def _items(*messages: dict[str, Any], **options: Any) -> list[Item]:
    return items_of(wp.notification(messages=list(messages), **options), wp.PHONE_NUMBER_ID)


def _read(message: dict[str, Any]) -> Inbound:
    (item,) = _items(message)
    return read_item(item, own_number=OWN_NUMBER)


def _received(message: dict[str, Any]) -> Input | None:
    return _read(message).received


def _template_quick_reply(payload: str, label: str) -> dict[str, Any]:
    """reference/messages/button: a tap on a template's quick-reply button."""
    message = wp.text_message("", timestamp=1_700_000_000)
    del message["text"]
    message |= {"type": "button", "button": {"payload": payload, "text": label}}
    return message


# --- items -------------------------------------------------------------------------------


def test_a_message_is_one_item_without_the_person_s_profile() -> None:
    message = wp.text_message("Bonjour", timestamp=1_700_000_000)
    (item,) = _items(message)
    assert item == Item(
        id=message["id"],
        wa_id=wp.USER_WA_ID,
        kind="message",
        position=1_700_000_000_000,
        body=message,
    )
    # Data minimisation: the WhatsApp name never reaches the inbox.
    assert wp.USER_NAME not in json.dumps(item)


def test_messages_of_one_second_keep_their_order() -> None:
    first = wp.text_message("19", timestamp=1_700_000_000)
    second = wp.text_message("93500", timestamp=1_700_000_000)
    later = wp.text_message("oui", timestamp=1_700_000_001)
    positions = [item["position"] for item in _items(first, second, later)]
    assert positions == [1_700_000_000_000, 1_700_000_000_001, 1_700_000_001_002]


def test_a_notification_for_another_number_or_field_is_ignored() -> None:
    message = wp.text_message("Bonjour")
    assert items_of(wp.notification(messages=[message]), "999999999") == []
    other = wp.notification(messages=[message])
    other["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    assert items_of(other, wp.PHONE_NUMBER_ID) == []


def test_only_failed_deliveries_are_items() -> None:
    sent = wp.sent_status("wamid.sent")
    delivered = wp.delivered_status("wamid.delivered")
    read = wp.read_status("wamid.read")
    failed = wp.failed_status("wamid.failed", 131047, timestamp=1_700_000_000)
    notification = wp.notification(statuses=[sent, delivered, read, failed])
    (item,) = items_of(notification, wp.PHONE_NUMBER_ID)
    assert item["id"] == "wamid.failed:failed"
    assert (item["wa_id"], item["kind"]) == (wp.USER_WA_ID, "status")
    assert item["position"] == 1_700_000_000_000
    assert read_item(item, own_number=OWN_NUMBER) == Inbound(CHAT, failed_code=131047)


def test_a_failed_delivery_without_errors_is_still_a_failure() -> None:
    failed = wp.status("wamid.failed", "failed")
    (item,) = items_of(wp.notification(statuses=[failed]), wp.PHONE_NUMBER_ID)
    assert read_item(item, own_number=OWN_NUMBER).failed_code == 0


def test_value_errors_are_told_for_the_log() -> None:
    notification = wp.notification(errors=[wp.error_entry(131000), {"code": "x"}, "junk"])
    assert value_errors(notification) == [131000]
    assert items_of(notification, wp.PHONE_NUMBER_ID) == []
    assert value_errors({"entry": "junk"}) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("from", "+33612345678"),  # not digits only
        ("from", "0612345678"),  # a leading 0 is no international number
        ("from", "12345"),  # too short
        ("from", "1234567890123456"),  # longer than E.164
        ("from", "123456\n"),
        ("from", 33612345678),
        ("from", None),
        ("id", ""),
        ("id", "w" * 257),
        ("id", ["wamid"]),
        ("timestamp", "soon"),
        ("timestamp", 1_700_000_000),  # Meta sends a string
        ("timestamp", "-1"),
    ],
)
def test_a_message_without_a_sender_id_or_time_is_skipped(key: str, value: Any) -> None:
    message = wp.text_message("Bonjour")
    message[key] = value
    assert _items(message) == []


def test_a_message_nested_too_deeply_to_store_is_skipped() -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = {"deeper": deep}
    message = wp.text_message("Bonjour")
    message["text"]["extra"] = deep
    fine = wp.text_message("19")
    assert [item["body"] for item in _items(message, fine)] == [fine]


def test_a_lone_half_of_an_emoji_is_left_out() -> None:
    message = json.loads('{"text": {"body": "salut \\ud83d"}}')
    (item,) = _items(wp.text_message("salut") | message)
    assert item["body"]["text"]["body"] == "salut "


JUNK: list[Any] = [None, [], {}, "", "x", 0, 1.5, True, [[]], [{}], {"": {}}, ["x"] * 3]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict | list):
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            found += _paths(child, (*path, key))
    return found


def test_junk_anywhere_in_a_notification_never_raises() -> None:
    notification = wp.notification(
        messages=[
            wp.text_message("Bonjour"),
            wp.button_reply("c|consent|yes", "Oui"),
            wp.list_reply("c|situation|school", "Lycée", "Je suis au lycée"),
            wp.unsupported_message(),
        ],
        statuses=[wp.failed_status("wamid.failed"), wp.read_status("wamid.read")],
        errors=[wp.error_entry(131000)],
    )
    for path in _paths(notification):
        for junk in JUNK:
            forged: Any = copy.deepcopy(notification)
            if not path:
                forged = junk
            else:
                holder = forged
                for key in path[:-1]:
                    holder = holder[key]
                holder[path[-1]] = junk
            value_errors(forged)
            for item in items_of(forged, wp.PHONE_NUMBER_ID):
                read_item(item, own_number=OWN_NUMBER)


# --- what a message means -------------------------------------------------------------------


def test_text_is_an_answer() -> None:
    assert _read(wp.text_message("93500")) == Inbound(CHAT, Input(text="93500"))
    assert _received(wp.text_message("bonjour")) == Input(text="bonjour")


@pytest.mark.parametrize("typed", ["2", " 2. ", "1, 3", "1,3", "1 3", "1 et 3", "1 and 3", "0"])
def test_numbers_are_marked_for_the_numbered_question(typed: str) -> None:
    inbound = _read(wp.text_message(typed))
    assert inbound.numbered
    assert inbound.received == Input(text=typed)


@pytest.mark.parametrize("typed", ["19 ans", "93500", "1234", "06 12 34 56 78", "le 2"])
def test_other_answers_are_not_numbered(typed: str) -> None:
    assert not _read(wp.text_message(typed)).numbered


def test_command_words_are_commands() -> None:
    assert _received(wp.text_message("Retour")) == Input(command="back")
    assert _received(wp.text_message("mes données")) == Input(command="my_data")
    assert _received(wp.text_message("langue en")) == Input(command="language", payload="en")


def test_help_asks_the_channel_for_the_words() -> None:
    assert _read(wp.text_message("Aide")) == Inbound(CHAT, help=True)


@pytest.mark.parametrize("typed", ["STOP", "Arrêt", "arret", "stop"])
def test_stop_makes_the_person_unreachable(typed: str) -> None:
    assert _read(wp.text_message(typed)) == Inbound(CHAT, stop=True)


def test_a_partner_s_link_starts_with_its_code() -> None:
    first = wp.text_message(whatsapp_first_message("ML_POISSY"))
    assert _received(first) == Input(command="start", payload="ML_POISSY")
    typed = wp.text_message("Bonjour, code partenaire\u00a0: mlv-93 merci")
    assert _received(typed) == Input(command="start", payload="mlv-93")
    too_long = wp.text_message("code partenaire : " + "A" * 65)
    assert _received(too_long) == Input(text="code partenaire : " + "A" * 65)


def test_a_pressed_button_or_row_carries_its_step() -> None:
    pressed = _read(wp.button_reply("c|consent|yes", "Oui, c'est OK"))
    assert pressed == Inbound(CHAT, Input(choice="yes"), button_step="consent")
    row = _read(wp.list_reply("c|situation|school", "Je suis au lycée ou en…", "Je suis au lycée"))
    assert row == Inbound(CHAT, Input(choice="school"), button_step="situation")
    # The end's "restart" and the erasure question belong to no step.
    assert _read(wp.button_reply("c||erase_yes", "Oui")).button_step == ""


def test_the_none_button_answers_a_multi_with_nothing() -> None:
    pressed = _read(wp.button_reply("m|interests|", "Rien de particulier"))
    assert pressed == Inbound(CHAT, Input(choices=()), button_step="interests")


def test_the_phone_button_gives_the_person_s_own_number() -> None:
    pressed = _read(wp.button_reply("p|phone|yes", "Oui, ce numéro"))
    assert pressed == Inbound(CHAT, Input(text=OWN_NUMBER), button_step="phone")


@pytest.mark.parametrize("button_id", ["", "yes", "x|consent|yes", "m|interests|3", "p|phone|no"])
def test_a_button_we_never_sent_shows_where_we_are(button_id: str) -> None:
    pressed = _read(wp.button_reply(button_id, "Oui"))
    assert pressed == Inbound(CHAT, Input(command="repeat", payload="old_button"))


def test_a_template_s_quick_reply_is_read_by_its_payload_or_its_words() -> None:
    ours = _read(_template_quick_reply("c|consent|yes", "Oui"))
    assert ours == Inbound(CHAT, Input(choice="yes"), button_step="consent")
    assert _received(_template_quick_reply("continue", "Continuer")) == Input(text="Continuer")
    assert _received(_template_quick_reply("", "Retour")) == Input(command="back")


def test_a_reply_to_an_older_message_is_read_as_the_message() -> None:
    reply = wp.text_message("19", reply_to="wamid.older")
    assert _received(reply) == Input(text="19")


def test_a_forwarded_message_is_no_answer() -> None:
    forwarded = wp.text_message("19", forwarded=True)
    assert _received(forwarded) == Input(command="repeat", payload="forwarded")


def test_voice_notes_and_audio_files_are_told_to_write() -> None:
    voice = Input(command="repeat", payload="voice")
    assert _received(wp.audio_message(voice=True)) == voice
    assert _received(wp.audio_message(voice=False)) == voice


def test_what_the_bot_cannot_read_is_reprompted() -> None:
    video = wp.text_message("") | {"type": "video", "video": {"id": "1", "mime_type": "video/mp4"}}
    del video["text"]
    odd_text = wp.text_message("x") | {"text": {"body": ["not", "text"]}}
    for message in (
        wp.image_message(caption="mon CV"),
        wp.sticker_message(),
        wp.document_message(),
        wp.location_message(),
        wp.contacts_message(),
        wp.unsupported_message(),
        video,
        odd_text,
        wp.text_message("x") | {"type": "hologram"},
        wp.text_message("x") | {"type": "interactive", "interactive": {"type": "nfm_reply"}},
    ):
        assert _received(message) == Input(command="repeat", payload="unsupported"), message


def test_reactions_and_system_messages_ask_nothing() -> None:
    assert _read(wp.reaction_message("wamid.ours")) == Inbound(CHAT)
    assert _read(wp.reaction_message("wamid.ours", emoji=None)) == Inbound(CHAT)
    assert _read(wp.system_message("33700000000")) == Inbound(CHAT)
    opened = wp.text_message("") | {"type": "request_welcome"}
    del opened["text"]
    assert _read(opened) == Inbound(CHAT)


# --- numbered answers -----------------------------------------------------------------------


def _question(kind: str, count: int) -> RenderedQuestion:
    choices = [RenderedChoice(value=f"v{i}", label=f"Réponse {i}") for i in range(1, count + 1)]
    return RenderedQuestion(field="f", kind=kind, choices=choices, none="Aucune")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1, 3", Input(choices=("v1", "v3"))),
        ("3 1", Input(choices=("v3", "v1"))),
        ("1 et 3", Input(choices=("v1", "v3"))),
        ("1,3", Input(choices=("v1", "v3"))),
        ("2, 2", Input(choices=("v2",))),
        ("4.", Input(choices=("v4",))),
        ("0", Input(choices=())),
        ("0, 2", None),
        ("5", None),
        ("1, 9", None),
        ("le numérique", None),
    ],
)
def test_numbers_answer_a_multi(typed: str, expected: Input | None) -> None:
    assert numbered_answer(typed, _question("multi", 4)) == expected


def test_a_number_answers_a_choice_shown_as_numbered_lines() -> None:
    question = _question("choice", 13)
    assert numbered_answer("13", question) == Input(choice="v13")
    assert numbered_answer("2.", question) == Input(choice="v2")
    for typed in ("0", "14", "1, 2", "ton âge"):
        assert numbered_answer(typed, question) is None
    # Buttons and lists are pressed; a number typed there is the engine's to read.
    assert numbered_answer("2", _question("choice", 5)) is None
    assert numbered_answer("2", _question("number", 0)) is None


def test_a_voice_note_is_answered_with_what_to_do_and_the_question_again() -> None:
    flow = load_flows()["prescreening"]
    started = engine.start(flow, context={"privacy_url": "https://poles.example"})
    received = _received(wp.audio_message())
    assert received is not None
    turn = engine.handle(flow, started.state, received)
    said = render_turn(turn.messages, turn.question, "fr")
    assert said[0].text == text("repeat.voice", "fr")
    assert turn.question is not None
    assert turn.question.step == started.state.step


def test_what_is_only_re_prompted_is_not_kept() -> None:
    located = wp.location_message(48.89, 2.36, name="Chez moi", address="12 rue X, Pantin")
    [item] = items_of(wp.notification(messages=[located]), wp.PHONE_NUMBER_ID)
    assert set(item["body"]) == {"from", "id", "timestamp", "type"}
