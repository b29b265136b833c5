"""Every kind of message and status Meta's webhook reference describes, through the real webhook
to the fake Graph API: what the person sees (or does not), and what the conversation keeps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.channels.whatsapp.words import whatsapp_wording
from bot.clock import utcnow
from bot.storage.models import Conversation, InboxUpdate, OutboxMessage
from flows.i18n import text
from flows.state import ConversationState
from tests.auxil import whatsapp_payloads as wa
from tests.auxil.stored_rows import conversation_row, count_rows
from tests.auxil.whatsapp_harness import WhatsAppHarness

ASKER = "C'est pour toi, ou pour ton enfant ?"
AGE = "Quel âge as-tu ?"
POSTAL_CODE = "Quel est ton code postal ?"
CONSENT = "C'est OK pour toi ?"


# --- What the person sees, and what is kept -------------------------------------------------


def shown(message: dict[str, Any]) -> str:
    """The text a Graph API message shows."""
    if message["type"] == "text":
        return str(message["text"]["body"])
    assert message["type"] == "interactive", message
    return str(message["interactive"]["body"]["text"])


def seen(sent: list[dict[str, Any]]) -> str:
    """Everything the person read in these messages, in order."""
    return "\n\n".join(shown(m) for m in sent)


def reply_ids(message: dict[str, Any]) -> list[str]:
    """The ids of a message's reply buttons or list rows (what a tap sends back)."""
    action = message.get("interactive", {}).get("action", {})
    ids = [button["reply"]["id"] for button in action.get("buttons", [])]
    return ids + [row["id"] for section in action.get("sections", []) for row in section["rows"]]


def tap(message: dict[str, Any], value: str) -> dict[str, Any]:
    """The person taps the button or list row of ``value`` in our ``message``."""
    reply_id = next(i for i in reply_ids(message) if i.rsplit("|", 1)[1] == value)
    if message["interactive"]["type"] == "list":
        return wa.list_reply(reply_id, value)
    return wa.button_reply(reply_id, value)


def asks(sent: list[dict[str, Any]], question: str) -> bool:
    """Whether the last message sent asks ``question``: what the person answers next."""
    return bool(sent) and shown(sent[-1]).endswith(question)


async def state_of(whatsapp: WhatsAppHarness) -> ConversationState | None:
    row = await conversation_row(whatsapp.app.state.database, wa.USER_WA_ID)
    return ConversationState.model_validate(row.state) if row is not None else None


async def current_state(whatsapp: WhatsAppHarness) -> ConversationState:
    state = await state_of(whatsapp)
    assert state is not None
    return state


async def unreachable(whatsapp: WhatsAppHarness) -> bool:
    """Whether the service holds the person as unreachable: no reminder goes to them."""
    row = await conversation_row(whatsapp.app.state.database, wa.USER_WA_ID)
    assert row is not None
    return row.unreachable_at is not None


async def to_asker(whatsapp: WhatsAppHarness) -> list[dict[str, Any]]:
    """Start a conversation and consent: the question "for you or your child?" is on screen."""
    welcome = await whatsapp.send(wa.text_message("Bonjour"))
    assert asks(welcome, CONSENT)
    sent = await whatsapp.send(tap(welcome[-1], "yes"))
    assert asks(sent, ASKER)
    return sent


async def to_age(whatsapp: WhatsAppHarness) -> list[dict[str, Any]]:
    sent = await whatsapp.send(tap((await to_asker(whatsapp))[-1], "self"))
    assert asks(sent, AGE)
    return sent


async def to_allowances(whatsapp: WhatsAppHarness) -> list[dict[str, Any]]:
    """Up to the multi-select of allowances, shown as numbered lines."""
    await to_age(whatsapp)
    await whatsapp.send(wa.text_message("19"))
    situation = await whatsapp.send(wa.text_message("93500"))
    diploma = await whatsapp.send(tap(situation[-1], "none"))
    sent = await whatsapp.send(tap(diploma[-1], "3"))
    assert (await current_state(whatsapp)).step == "allowances"
    return sent


async def due_now(whatsapp: WhatsAppHarness) -> None:
    """Bring the conversation's reminder forward to now, as if the delay had passed."""
    async with whatsapp.app.state.database.transaction() as tx:
        changed = await tx.run(
            update(Conversation)
            .where(Conversation.remind_at.is_not(None))
            .values(remind_at=utcnow())
        )
    assert changed == 1  # the step must have scheduled it


async def reminders_sent(whatsapp: WhatsAppHarness) -> list[dict[str, Any]]:
    """Run the due reminders; the messages they sent."""
    reminders = whatsapp.runtime.pipeline.reminders
    assert reminders is not None
    before = len(whatsapp.fake.messages())
    await reminders.run_due()
    await whatsapp.settle()
    return whatsapp.fake.messages()[before:]


async def post(whatsapp: WhatsAppHarness, notification: dict[str, Any]) -> list[dict[str, Any]]:
    """Post a whole notification (statuses, errors); the messages it caused."""
    before = len(whatsapp.fake.messages())
    response = await whatsapp.post(notification)
    assert response.status_code == 200
    await whatsapp.settle()
    return whatsapp.fake.messages()[before:]


# --- Kinds of messages ----------------------------------------------------------------------


def _unknown_type() -> dict[str, Any]:
    message = wa.text_message("x")
    del message["text"]
    return message | {"type": "hologram", "hologram": {"id": "1"}}


NOT_READ: dict[str, Callable[[], dict[str, Any]]] = {
    "image": lambda: wa.image_message(),
    "image-with-caption": lambda: wa.image_message(caption="moi"),
    "sticker": lambda: wa.sticker_message(),
    "animated-sticker": lambda: wa.sticker_message(animated=True),
    "location": lambda: wa.location_message(),
    "contacts": lambda: wa.contacts_message(),
    "document": lambda: wa.document_message(caption="mon CV"),
    "unsupported": lambda: wa.unsupported_message(),
    "unknown-type": _unknown_type,
}


@pytest.mark.parametrize("make", NOT_READ.values(), ids=NOT_READ.keys())
async def test_what_the_assistant_cannot_read_gets_a_kind_reprompt_of_the_current_question(
    make: Callable[[], dict[str, Any]], whatsapp: WhatsAppHarness
) -> None:
    question = await to_asker(whatsapp)
    before = await current_state(whatsapp)
    sent = await whatsapp.send(make())
    assert text("repeat.unsupported", "fr") in seen(sent)
    assert asks(sent, ASKER)
    assert reply_ids(sent[-1]) == reply_ids(question[-1])  # the same buttons, to tap now
    after = await current_state(whatsapp)
    assert (after.step, after.answers) == (before.step, before.answers)


async def test_a_voice_note_is_told_the_assistant_reads_text_then_the_question(
    whatsapp: WhatsAppHarness,
) -> None:
    await to_asker(whatsapp)
    sent = await whatsapp.send(wa.audio_message())
    # As WhatsApp shows it: its Telegram command written as the word to type.
    assert seen(sent).startswith(whatsapp_wording(text("repeat.voice", "fr"), "fr"))
    assert asks(sent, ASKER)
    assert (await current_state(whatsapp)).answers == {"consent": "yes"}


async def test_a_voice_note_is_told_how_to_reach_a_person(whatsapp: WhatsAppHarness) -> None:
    await to_asker(whatsapp)
    sent = await whatsapp.send(wa.audio_message())
    reprompt = seen(sent).removesuffix(ASKER)
    assert "« conseiller »" in reprompt


async def test_a_reprompt_follows_the_language_of_the_conversation(
    whatsapp: WhatsAppHarness,
) -> None:
    await to_asker(whatsapp)
    await whatsapp.send(wa.text_message("langue en"))
    sent = await whatsapp.send(wa.sticker_message())
    assert text("repeat.unsupported", "en") in seen(sent)
    assert text("repeat.unsupported", "fr") not in seen(sent)


async def test_a_forwarded_text_is_not_taken_as_an_answer(whatsapp: WhatsAppHarness) -> None:
    await to_age(whatsapp)
    sent = await whatsapp.send(wa.text_message("19", forwarded=True))
    assert text("repeat.forwarded", "fr") in seen(sent)
    assert asks(sent, AGE)
    assert "age" not in (await current_state(whatsapp)).answers


async def test_a_reply_to_an_old_message_is_an_answer_like_any_text(
    whatsapp: WhatsAppHarness,
) -> None:
    await to_age(whatsapp)
    sent = await whatsapp.send(wa.text_message("19", reply_to=wa.new_message_id()))
    assert asks(sent, POSTAL_CODE)
    assert (await current_state(whatsapp)).answers["age"] == 19


async def test_a_button_and_a_list_row_are_answers(whatsapp: WhatsAppHarness) -> None:
    await to_age(whatsapp)
    await whatsapp.send(wa.text_message("19"))
    situation = await whatsapp.send(wa.text_message("93500"))
    assert situation[-1]["interactive"]["type"] == "list"
    diploma = await whatsapp.send(tap(situation[-1], "job_seeker"))
    state = await current_state(whatsapp)
    assert state.answers["consent"] == "yes"  # a reply button
    assert state.answers["asker"] == "self"
    assert state.answers["situation"] == "job_seeker"  # a list row
    assert diploma[-1]["interactive"]["type"] == "list"


@pytest.mark.parametrize(
    "make",
    [
        lambda: wa.reaction_message(wa.new_message_id()),
        lambda: wa.reaction_message(wa.new_message_id(), emoji=None),
        lambda: wa.system_message("33612345678"),
    ],
    ids=["reaction", "reaction-taken-back", "number-changed"],
)
async def test_a_reaction_or_a_system_message_gets_no_answer(
    make: Callable[[], dict[str, Any]], whatsapp: WhatsAppHarness
) -> None:
    await to_asker(whatsapp)
    before = await current_state(whatsapp)
    assert await whatsapp.send(make()) == []
    after = await current_state(whatsapp)
    assert (after.step, after.answers) == (before.step, before.answers)
    # Nothing was lost either: the conversation goes on.
    assert asks(await whatsapp.send(wa.text_message("aide")), ASKER)


async def test_a_first_message_of_any_kind_gets_the_welcome(whatsapp: WhatsAppHarness) -> None:
    sent = await whatsapp.send(wa.sticker_message())
    assert asks(sent, CONSENT)
    assert reply_ids(sent[-1]) == ["c|consent|yes", "c|consent|no"]


async def test_a_tap_with_no_conversation_behind_it_gets_the_welcome(
    whatsapp: WhatsAppHarness,
) -> None:
    sent = await whatsapp.send(wa.button_reply("c|asker|self", "Pour moi"))
    assert asks(sent, CONSENT)
    assert (await current_state(whatsapp)).answers == {}


async def test_a_very_long_text_is_answered_within_whatsapp_s_limits(
    whatsapp: WhatsAppHarness,
) -> None:
    await to_age(whatsapp)
    sent = await whatsapp.send(wa.text_message("\N{SLIGHTLY SMILING FACE}" * 5000))
    assert asks(sent, AGE)
    assert all(len(shown(m)) <= 4096 for m in sent)
    assert "age" not in (await current_state(whatsapp)).answers


async def test_half_an_emoji_is_left_out_and_the_answer_kept(whatsapp: WhatsAppHarness) -> None:
    await to_age(whatsapp)
    body = wa.raw(wa.notification(messages=[wa.text_message("19")]))
    response = await whatsapp.post(body.replace(b'"19"', b'"19\\ud83d"'))
    assert response.status_code == 200
    await whatsapp.settle()
    assert (await current_state(whatsapp)).answers["age"] == 19
    assert shown(whatsapp.fake.messages()[-1]).endswith(POSTAL_CODE)


async def test_two_people_in_one_notification_each_get_their_own_answer(
    whatsapp: WhatsAppHarness,
) -> None:
    people = ["33600000001", "33600000002"]
    sent = await whatsapp.send(*(wa.text_message("Bonjour", wa_id=p) for p in people))
    assert sorted(m["to"] for m in sent) == people
    assert all(asks([m], CONSENT) for m in sent)
    assert await count_rows(whatsapp.app.state.database, Conversation) == 2


# --- Statuses and errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        wa.sent_status,
        wa.delivered_status,
        wa.read_status,
        lambda message_id: wa.failed_status(message_id, 131047),
    ],
    ids=["sent", "delivered", "read", "failed-131047"],
)
async def test_a_status_that_leaves_the_person_reachable_changes_nothing(
    make: Callable[[str], dict[str, Any]], whatsapp: WhatsAppHarness
) -> None:
    await to_asker(whatsapp)
    database = whatsapp.app.state.database
    before = await conversation_row(database, wa.USER_WA_ID)
    inbox = await count_rows(database, InboxUpdate)
    assert await post(whatsapp, wa.notification(statuses=[make(wa.new_message_id())])) == []
    assert await conversation_row(database, wa.USER_WA_ID) == before
    assert await count_rows(database, InboxUpdate) == inbox


async def test_many_statuses_in_one_notification_change_nothing(whatsapp: WhatsAppHarness) -> None:
    await to_asker(whatsapp)
    before = await conversation_row(whatsapp.app.state.database, wa.USER_WA_ID)
    ids = [wa.new_message_id() for _ in range(3)]
    statuses = [make(i) for i in ids for make in (wa.sent_status, wa.delivered_status)]
    assert await post(whatsapp, wa.notification(statuses=statuses)) == []
    assert await conversation_row(whatsapp.app.state.database, wa.USER_WA_ID) == before


async def test_an_undeliverable_message_marks_the_person_unreachable_until_they_write(
    whatsapp: WhatsAppHarness,
) -> None:
    await to_asker(whatsapp)
    failed = wa.failed_status(wa.new_message_id(), 131026)
    assert await post(whatsapp, wa.notification(statuses=[failed])) == []
    assert await unreachable(whatsapp)
    await due_now(whatsapp)
    assert await reminders_sent(whatsapp) == []
    # They write again: they can be reached, and the conversation goes on where it was.
    assert asks(await whatsapp.send(wa.text_message("bonjour")), ASKER)
    assert not await unreachable(whatsapp)


async def test_the_same_failure_retried_by_meta_is_harmless(whatsapp: WhatsAppHarness) -> None:
    await to_asker(whatsapp)
    failed = wa.notification(statuses=[wa.failed_status(wa.new_message_id(), 131026)])
    assert await post(whatsapp, failed) == []
    assert await post(whatsapp, failed) == []
    assert await unreachable(whatsapp)


async def test_a_failure_for_someone_without_a_conversation_is_harmless(
    whatsapp: WhatsAppHarness,
) -> None:
    failed = wa.failed_status(wa.new_message_id(), 131026, recipient_id="33600000002")
    assert await post(whatsapp, wa.notification(statuses=[failed])) == []
    assert await count_rows(whatsapp.app.state.database, Conversation) == 0


async def test_an_error_about_the_whole_notification_is_logged_by_code_only(
    whatsapp: WhatsAppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await to_asker(whatsapp)
    before = await conversation_row(whatsapp.app.state.database, wa.USER_WA_ID)
    caplog.set_level(logging.WARNING)
    notification = wa.notification(errors=[wa.error_entry(131000)])
    assert await post(whatsapp, notification) == []
    assert await conversation_row(whatsapp.app.state.database, wa.USER_WA_ID) == before
    logged = [r for r in caplog.records if r.getMessage() == "whatsapp notification error"]
    assert [getattr(r, "code", None) for r in logged] == [131000]


async def test_a_reminder_reaches_a_reachable_person(whatsapp: WhatsAppHarness) -> None:
    await to_asker(whatsapp)
    await due_now(whatsapp)
    nudge = await reminders_sent(whatsapp)
    assert seen(nudge).startswith(text("reminder.nudge", "fr"))
    assert asks(nudge, ASKER)


# --- STOP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", "stop", "Arrêt", "ARRET", "arrête"])
async def test_stop_gets_no_answer_and_nothing_more_until_they_write_again(
    word: str, whatsapp: WhatsAppHarness
) -> None:
    await to_asker(whatsapp)
    assert await whatsapp.send(wa.text_message(word)) == []
    assert await unreachable(whatsapp)
    await due_now(whatsapp)
    assert await reminders_sent(whatsapp) == []
    # A reaction or a number change is no "writing again".
    assert await whatsapp.send(wa.reaction_message(wa.new_message_id())) == []
    assert await unreachable(whatsapp)
    assert asks(await whatsapp.send(wa.text_message("Bonjour")), ASKER)
    assert not await unreachable(whatsapp)


async def test_stop_as_a_first_message_gets_no_answer(whatsapp: WhatsAppHarness) -> None:
    assert await whatsapp.send(wa.text_message("STOP")) == []
    assert whatsapp.fake.calls == []
    assert asks(await whatsapp.send(wa.text_message("Bonjour")), CONSENT)


async def test_stop_inside_a_sentence_is_an_answer_not_an_opt_out(
    whatsapp: WhatsAppHarness,
) -> None:
    await to_age(whatsapp)
    sent = await whatsapp.send(wa.text_message("stop, j'ai 19 ans"))
    assert sent  # answered: only the bare word stops the conversation
    assert not await unreachable(whatsapp)


# --- Retries and order ----------------------------------------------------------------------


async def test_a_notification_meta_delivers_twice_is_answered_once(
    whatsapp: WhatsAppHarness,
) -> None:
    hello = wa.notification(messages=[wa.text_message("Bonjour")])
    assert (await whatsapp.post(hello)).status_code == 200
    assert (await whatsapp.post(hello)).status_code == 200
    await whatsapp.settle()
    assert len(whatsapp.fake.messages()) == 1
    assert await count_rows(whatsapp.app.state.database, InboxUpdate) == 1


async def test_a_message_retried_in_another_notification_is_applied_once(
    whatsapp: WhatsAppHarness,
) -> None:
    await to_age(whatsapp)
    age = wa.text_message("19")
    first = await whatsapp.send(age)
    again = await whatsapp.send(wa.reaction_message(wa.new_message_id()), age)
    assert asks(first, POSTAL_CODE)
    assert again == []
    assert (await current_state(whatsapp)).step == "postal_code"


async def test_two_messages_in_one_notification_are_applied_in_order(
    whatsapp: WhatsAppHarness,
) -> None:
    question = await to_asker(whatsapp)
    moment = int(utcnow().timestamp())  # Meta gives both the same second
    sent = await whatsapp.send(
        tap(question[-1], "self") | {"timestamp": str(moment)},
        wa.text_message("19", timestamp=moment),
    )
    assert [shown(m).endswith(q) for m, q in zip(sent, (AGE, POSTAL_CODE), strict=True)] == [
        True,
        True,
    ]
    state = await current_state(whatsapp)
    assert state.answers["asker"] == "self"
    assert state.answers["age"] == 19
    assert state.step == "postal_code"


async def test_a_button_of_an_old_question_shows_where_the_conversation_is(
    whatsapp: WhatsAppHarness,
) -> None:
    await to_age(whatsapp)
    before = await current_state(whatsapp)
    sent = await whatsapp.send(wa.button_reply("c|consent|no", "Non merci"))
    assert seen(sent).startswith(text("repeat.old_button", "fr"))
    assert seen(sent).startswith("Ce bouton vient d'une question précédente")
    assert asks(sent, AGE)
    after = await current_state(whatsapp)
    assert (after.step, after.answers) == (before.step, before.answers)


@pytest.mark.parametrize(
    "make",
    [
        lambda: wa.list_reply("c|situation|none", "Rien"),
        lambda: wa.button_reply("x|consent|yes", "Oui"),
        lambda: wa.button_reply("", "Oui"),
    ],
    ids=["old-list-row", "unknown-kind", "empty-id"],
)
async def test_other_stale_or_foreign_taps_show_the_current_question(
    make: Callable[[], dict[str, Any]], whatsapp: WhatsAppHarness
) -> None:
    await to_age(whatsapp)
    sent = await whatsapp.send(make())
    assert seen(sent).startswith(text("repeat.old_button", "fr"))
    assert asks(sent, AGE)


async def test_numbers_answer_a_multi_select(whatsapp: WhatsAppHarness) -> None:
    allowances = await to_allowances(whatsapp)
    lines = [line for line in shown(allowances[-1]).splitlines() if line[:2] in ("1.", "3.")]
    assert len(lines) == 2  # the person sees the numbers they answer with
    question = whatsapp.app.state.conversations
    async with whatsapp.app.state.database.transaction() as tx:
        peeked = await question.peek(tx, channel="whatsapp", external_id=wa.USER_WA_ID)
    assert peeked is not None
    asked = peeked[1][-1].question
    assert asked is not None
    values = [choice.value for choice in asked.choices]
    sent = await whatsapp.send(wa.text_message("1, 3"))
    state = await current_state(whatsapp)
    assert state.answers["criteria"] == [values[0], values[2]]
    assert state.step != "allowances"
    assert sent


@pytest.mark.parametrize("typed", ["0", "1 et 3", "2.", "1/2/3"])
async def test_other_numbered_answers_are_taken_too(typed: str, whatsapp: WhatsAppHarness) -> None:
    await to_allowances(whatsapp)
    await whatsapp.send(wa.text_message(typed))
    assert (await current_state(whatsapp)).step != "allowances"


async def test_the_none_button_answers_a_multi_select(whatsapp: WhatsAppHarness) -> None:
    allowances = await to_allowances(whatsapp)
    [none] = reply_ids(allowances[-1])
    await whatsapp.send(wa.button_reply(none, "Aucune"))
    state = await current_state(whatsapp)
    assert state.answers["criteria"] == []
    assert state.step != "allowances"


async def test_a_number_out_of_range_is_reasked_kindly(whatsapp: WhatsAppHarness) -> None:
    await to_allowances(whatsapp)
    sent = await whatsapp.send(wa.text_message("1, 9"))
    assert sent
    assert (await current_state(whatsapp)).step == "allowances"


# --- Commands as words ----------------------------------------------------------------------


@pytest.mark.parametrize("word", ["retour", "back", "Retour !", "RETOUR"])
async def test_back_asks_the_previous_question_again(word: str, whatsapp: WhatsAppHarness) -> None:
    await to_age(whatsapp)
    sent = await whatsapp.send(wa.text_message(word))
    assert asks(sent, ASKER)
    assert (await current_state(whatsapp)).step == "asker"


@pytest.mark.parametrize("word", ["recommencer", "restart"])
async def test_restart_begins_again_from_the_welcome(word: str, whatsapp: WhatsAppHarness) -> None:
    await to_age(whatsapp)
    sent = await whatsapp.send(wa.text_message(word))
    assert asks(sent, CONSENT)
    assert (await current_state(whatsapp)).answers == {}


@pytest.mark.parametrize("word", ["conseiller", "Conseillère", "adviser"])
async def test_asking_for_a_counsellor_is_heard(word: str, whatsapp: WhatsAppHarness) -> None:
    await to_age(whatsapp)
    sent = await whatsapp.send(wa.text_message(word))
    assert text("human.intro", "fr") in seen(sent)
    assert (await current_state(whatsapp)).human_requested


@pytest.mark.parametrize("words", ["langue en", "language english", "Langue anglais"])
async def test_the_language_changes_and_the_question_is_asked_in_it(
    words: str, whatsapp: WhatsAppHarness
) -> None:
    await to_age(whatsapp)
    sent = await whatsapp.send(wa.text_message(words))
    assert seen(sent).startswith(text("command.language_changed", "en"))
    assert not asks(sent, AGE)  # now in English
    assert (await current_state(whatsapp)).language == "en"
    back = await whatsapp.send(wa.text_message("langue fr"))
    assert asks(back, AGE)


@pytest.mark.parametrize("words", ["mes données", "Mes Donnees", "my data", "my_data"])
async def test_my_data_shows_what_is_kept_then_the_question(
    words: str, whatsapp: WhatsAppHarness
) -> None:
    await to_age(whatsapp)
    await whatsapp.send(wa.text_message("19"))
    sent = await whatsapp.send(wa.text_message(words))
    assert text("data.intro", "fr") in seen(sent)
    assert "19" in seen(sent)
    assert asks(sent, POSTAL_CODE)


@pytest.mark.parametrize("word", ["aide", "help", "Aide ?"])
async def test_help_names_the_words_then_asks_the_question_again(
    word: str, whatsapp: WhatsAppHarness
) -> None:
    await to_asker(whatsapp)
    sent = await whatsapp.send(wa.text_message(word))
    assert seen(sent).startswith(text("whatsapp.help", "fr"))
    assert asks(sent, ASKER)


async def test_help_before_any_conversation_names_the_words(whatsapp: WhatsAppHarness) -> None:
    sent = await whatsapp.send(wa.text_message("aide"))
    assert seen(sent) == text("whatsapp.help", "fr")


async def test_erasure_can_be_declined(whatsapp: WhatsAppHarness) -> None:
    await to_age(whatsapp)
    await whatsapp.send(wa.text_message("19"))
    asked = await whatsapp.send(wa.text_message("supprimer"))
    assert shown(asked[-1]) == text("erase.ask", "fr")
    kept = await whatsapp.send(tap(asked[-1], "erase_no"))
    assert seen(kept).startswith(text("erase.cancelled", "fr"))
    assert asks(kept, POSTAL_CODE)
    assert (await current_state(whatsapp)).answers["age"] == 19


@pytest.mark.parametrize("word", ["supprimer", "delete"])
async def test_erasure_once_confirmed_leaves_nothing_of_the_conversation(
    word: str, whatsapp: WhatsAppHarness
) -> None:
    await to_age(whatsapp)
    await whatsapp.send(wa.text_message("19"))
    await whatsapp.send(wa.text_message("93500"))
    asked = await whatsapp.send(wa.text_message(word))
    assert shown(asked[-1]) == text("erase.ask", "fr")
    done = await whatsapp.send(tap(asked[-1], "erase_yes"))
    assert seen(done).startswith("C'est fait : j'ai tout effacé.")
    # The Telegram command becomes the word that works here.
    assert "/start" not in seen(done)
    assert "« bonjour »" in seen(done)
    database = whatsapp.app.state.database
    assert await count_rows(database, Conversation) == 0
    async with database.transaction() as tx:
        payloads = await tx.scalars(select(InboxUpdate.payload))
        kept_ids = await tx.all(select(InboxUpdate.delivery_id, InboxUpdate.chat_id))
        outbox = await tx.scalars(select(OutboxMessage.payload))
    assert payloads  # the ids stay, to recognise a retried delivery
    assert all(payload == {} for payload in payloads)
    # Nor the number: not as the chat, nor inside Meta's message ids (which encode it).
    assert all(chat_id is None for _, chat_id in kept_ids)
    assert not any("wamid" in delivery_id for delivery_id, _ in kept_ids)
    for kept in map(str, outbox):
        assert "93500" not in kept
        assert AGE not in kept
    assert len(outbox) <= len(done)  # only the goodbye, if anything
    # Writing again is a new conversation from the start.
    assert asks(await whatsapp.send(wa.text_message("Bonjour")), CONSENT)


async def test_a_retried_answer_after_erasure_is_not_applied_again(
    whatsapp: WhatsAppHarness,
) -> None:
    await to_age(whatsapp)
    age = wa.notification(messages=[wa.text_message("19")])
    await post(whatsapp, age)
    asked = await whatsapp.send(wa.text_message("supprimer"))
    await whatsapp.send(tap(asked[-1], "erase_yes"))
    assert await post(whatsapp, age) == []
    assert await count_rows(whatsapp.app.state.database, Conversation) == 0
