"""Replies as WhatsApp shows them: buttons, lists or numbered answers, never over Meta's
limits (a message over one is refused whole, and the person gets nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.channels.buttons import step_matches
from bot.channels.whatsapp.parse import numbered_answer, read_item
from bot.channels.whatsapp.render import (
    clean_parameter,
    cut,
    readable_number,
    reply_calls,
    template_call,
    width,
)
from bot.channels.whatsapp.updates import Item
from bot.messaging.outbox import ApiCall
from flows import engine
from flows.catalogue import default_catalogue
from flows.flow_loader import load_flows
from flows.i18n import LANGUAGES, Language, text
from flows.messages import Input
from flows.render import RenderedChoice, RenderedMessage, RenderedQuestion, render_turn

WA_ID = "33612345678"
PRIVACY_URL = "https://poles.example/confidentialite"


def _question(kind: str, *labels: str, none: str | None = None) -> RenderedQuestion:
    choices = [RenderedChoice(value=f"v{i}", label=label) for i, label in enumerate(labels, 1)]
    return RenderedQuestion(field="f", kind=kind, choices=choices, none=none)  # type: ignore[arg-type]


def _ask(question: RenderedQuestion, *before: str, step: str = "s") -> list[ApiCall]:
    messages = [RenderedMessage(text=t) for t in before]
    messages.append(RenderedMessage(text="La question ?", question=question))
    return reply_calls(WA_ID, messages, step=step, language="fr")


def _interactive(call: ApiCall) -> dict[str, Any]:
    assert call.payload["type"] == "interactive"
    content: dict[str, Any] = call.payload["interactive"]
    return content


def _check_limits(call: ApiCall) -> None:
    """Meta's limits on a message, counted in UTF-16 (an emoji as two)."""
    payload = call.payload
    assert call.method == "message"
    assert call.chat_id == int(payload["to"])
    assert payload["messaging_product"] == "whatsapp"
    assert payload["recipient_type"] == "individual"
    if payload["type"] == "text":
        assert 0 < width(payload["text"]["body"]) <= 4096
        return
    content = _interactive(call)
    assert 0 < width(content["body"]["text"]) <= 1024
    action = content["action"]
    if content["type"] == "button":
        buttons = [b["reply"] for b in action["buttons"]]
        assert 1 <= len(buttons) <= 3
        assert len({b["title"] for b in buttons}) == len(buttons)  # titles must differ
        for button in buttons:
            assert 0 < width(button["title"]) <= 20
            assert 0 < len(button["id"]) <= 256
        return
    assert content["type"] == "list"
    assert 0 < width(action["button"]) <= 20
    (section,) = action["sections"]
    assert 0 < width(section["title"]) <= 24
    assert 1 <= len(section["rows"]) <= 10
    for row in section["rows"]:
        assert 0 < width(row["title"]) <= 24
        assert width(row.get("description", "")) <= 72
        assert 0 < len(row["id"]) <= 200


def _shown(call: ApiCall) -> str:
    """The text a message shows: a text's, or an interactive message's body."""
    if call.payload["type"] == "text":
        return str(call.payload["text"]["body"])
    return str(_interactive(call)["body"]["text"])


def _pressed(reply_id: str) -> tuple[Input | None, str | None]:
    """What the bot reads back when the person presses a button or row with this id."""
    body = {"from": WA_ID, "id": "wamid.x", "timestamp": "1", "type": "interactive"}
    body["interactive"] = {"type": "button_reply", "button_reply": {"id": reply_id}}
    item = Item(id="wamid.x", wa_id=WA_ID, kind="message", position=1000, body=body)
    inbound = read_item(item, own_number="+" + WA_ID)
    return inbound.received, inbound.button_step


# --- each kind of question ----------------------------------------------------------------


def test_up_to_three_short_answers_are_reply_buttons() -> None:
    (call,) = _ask(_question("choice", "Oui, c'est OK", "Non merci"), "Salut !", step="consent")
    content = _interactive(call)
    assert content["type"] == "button"
    assert content["body"]["text"] == "Salut !\n\nLa question ?"
    buttons = [b["reply"] for b in content["action"]["buttons"]]
    assert buttons == [
        {"id": "c|consent|v1", "title": "Oui, c'est OK"},
        {"id": "c|consent|v2", "title": "Non merci"},
    ]
    assert _pressed(buttons[1]["id"]) == (Input(choice="v2"), "consent")


def test_a_long_answer_or_more_than_three_make_a_list_with_whole_labels() -> None:
    question = _question("choice", "Je suis au lycée ou en études", "Je suis en formation")
    (call,) = _ask(question, step="situation")
    content = _interactive(call)
    assert content["type"] == "list"
    assert content["action"]["button"] == "Choisir"
    rows = content["action"]["sections"][0]["rows"]
    assert rows == [
        {
            "id": "c|situation|v1",
            "title": "Je suis au lycée ou en…",
            "description": "Je suis au lycée ou en études",
        },
        {"id": "c|situation|v2", "title": "Je suis en formation"},
    ]
    assert _pressed(rows[0]["id"]) == (Input(choice="v1"), "situation")
    four = _question("choice", "A", "B", "C", "D")
    assert _interactive(_ask(four)[0])["type"] == "list"


def test_more_than_ten_answers_are_numbered_lines_to_answer_with_a_number() -> None:
    labels = [f"Réponse {i}" for i in range(1, 12)]
    question = _question("choice", *labels)
    (call,) = _ask(question)
    shown = call.payload["text"]["body"]
    assert shown.startswith("La question ?\n\n1. Réponse 1\n2. Réponse 2\n")
    assert "11. Réponse 11" in shown
    assert shown.endswith(text("whatsapp.answer_number", "fr"))
    assert numbered_answer("11", question) == Input(choice="v11")


def test_a_multi_is_numbered_with_a_button_for_none() -> None:
    question = _question("multi", "Le RSA", "L'ASS", "L'AAH", none="Rien de particulier")
    (call,) = _ask(question, step="allowances")
    content = _interactive(call)
    assert content["body"]["text"] == (
        "La question ?\n\n1. Le RSA\n2. L'ASS\n3. L'AAH\n\n" + text("whatsapp.answer_numbers", "fr")
    )
    (button,) = [b["reply"] for b in content["action"]["buttons"]]
    assert button == {"id": "m|allowances|", "title": "Rien de particulier"}
    assert _pressed(button["id"]) == (Input(choices=()), "allowances")
    assert numbered_answer("1 et 3", question) == Input(choices=("v1", "v3"))


def test_a_none_too_long_for_a_button_is_the_plain_none() -> None:
    question = _question("multi", "Le RSA", none="Rien de tout cela pour moi")
    (call,) = _ask(question)
    (button,) = _interactive(call)["action"]["buttons"]
    assert button["reply"]["title"] == text("multi.none", "fr")


def test_the_phone_question_offers_the_number_whatsapp_knows() -> None:
    (call,) = _ask(RenderedQuestion(field="phone", kind="phone", choices=[]), step="phone")
    content = _interactive(call)
    assert "+33 6 12 34 56 78" in content["body"]["text"]
    (button,) = [b["reply"] for b in content["action"]["buttons"]]
    assert button == {"id": "p|phone|yes", "title": "Oui, ce numéro"}
    assert _pressed(button["id"]) == (Input(text="+33612345678"), "phone")


@pytest.mark.parametrize("kind", ["text", "number", "postal_code", "email", "none"])
def test_questions_typed_in_are_plain_text(kind: str) -> None:
    (call,) = _ask(_question(kind), "Merci !")
    assert call.payload["type"] == "text"
    assert call.payload["text"] == {"body": "Merci !\n\nLa question ?"}


def test_telegram_commands_in_texts_become_words() -> None:
    messages = [RenderedMessage(text="Écris /mes_donnees pour les voir, ou /start.")]
    (call,) = reply_calls(WA_ID, messages, step=None, language="fr")
    assert call.payload["text"]["body"] == "Écris « mes données » pour les voir, ou « bonjour »."


def test_long_texts_are_split_and_a_long_body_goes_first_as_text() -> None:
    long_paragraph = "Un long texte. " * 100  # 1500 characters
    calls = _ask(_question("choice", "Oui", "Non"), long_paragraph)
    assert [c.payload["type"] for c in calls] == ["text", "interactive"]
    assert calls[0].payload["text"]["body"] == long_paragraph.strip()
    assert _interactive(calls[1])["body"]["text"] == "La question ?"
    huge = [RenderedMessage(text="\n".join(f"ligne {i} " + "x" * 80 for i in range(120)))]
    pieces = reply_calls(WA_ID, huge, step=None, language="fr")
    assert len(pieces) == 3
    for call in pieces:
        _check_limits(call)


def test_a_question_whose_last_paragraph_is_too_long_is_cut_to_fit() -> None:
    question_text = "Une question très longue 😅 " * 60  # no paragraph end, emojis counting 2
    messages = [RenderedMessage(text=question_text, question=_question("choice", "Oui", "Non"))]
    calls = reply_calls(WA_ID, messages, step="s", language="fr")
    for call in calls:
        _check_limits(call)
    assert calls[-1].payload["type"] == "interactive"
    shown = " ".join(
        c.payload["text"]["body"]
        if c.payload["type"] == "text"
        else _interactive(c)["body"]["text"]
        for c in calls
    )
    assert shown.split() == question_text.split()


def test_no_messages_no_calls() -> None:
    assert reply_calls(WA_ID, [], step=None, language="fr") == []


# --- every question of the real flow, in each language ----------------------------------


def _flow_questions(language: Language) -> Iterator[tuple[str, list[RenderedMessage]]]:
    """Every question of the pre-screening flow as the engine would render it, with the
    longest choices it can offer (every site, every editable field)."""
    flow = load_flows()["prescreening"]
    catalogue = default_catalogue()
    params = {"privacy_url": PRIVACY_URL, "first_name": "Marie-Christine"}
    for step_id, step in flow.steps.items():
        if step.ask is None:
            continue
        if step.choices_from == "sites":
            options = [
                (
                    site.id,
                    text(
                        "site.option",
                        language,
                        site=site.name,
                        status=text(f"site.status.{site.status}", language),
                    ),
                )
                for site in catalogue.sites
            ]
        elif step.choices_from == "editable_fields":
            options = [
                (name, text(flow.answers.get(name, f"field.{name}"), language))
                for name in flow.summary_fields
            ]
        else:
            options = [(c.value, text(c.label, language)) for c in step.choices]
        none = text(step.none_label or "multi.none", language) if step.input == "multi" else None
        question = RenderedQuestion(
            field=step.field,
            kind=step.input,
            choices=[RenderedChoice(value=value, label=label) for value, label in options],
            none=none,
        )
        before = [RenderedMessage(text=text(m, language, **params)) for m in step.say]
        asked = RenderedMessage(text=text(step.ask, language, **params), question=question)
        yield step_id, [*before, asked]
    # The questions that belong to no step: the erasure, and the end's "start again".
    started = engine.start(flow, language=language, context=params)
    erase = engine.handle(flow, started.state, Input(command="erase"), context=params)
    yield "", render_turn(erase.messages, erase.question, language)
    refused = engine.handle(flow, started.state, Input(choice="no"), context=params)
    ended = engine.handle(flow, refused.state, Input(text="bonjour"), context=params)
    yield "", render_turn(ended.messages, ended.question, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_question_of_the_flow_stays_within_whatsapp_s_limits(language: Language) -> None:
    for step, messages in _flow_questions(language):
        calls = reply_calls(WA_ID, messages, step=step, language=language)
        assert calls, step
        for call in calls:
            _check_limits(call)
        question = messages[-1].question
        assert question is not None
        last = calls[-1].payload
        if question.kind in ("choice", "multi", "phone") and last["type"] == "interactive":
            # Every button and row reads back as an answer to this very step.
            action = last["interactive"]["action"]
            replies = [b["reply"] for b in action.get("buttons", [])]
            replies += [row for s in action.get("sections", []) for row in s["rows"]]
            values = {c.value for c in question.choices}
            for reply in replies:
                received, button_step = _pressed(reply["id"])
                assert button_step is not None
                assert step_matches(button_step, step)
                assert received is not None
                assert received.choice in values or received.choices == () or received.text, reply
            # A cut title keeps its whole label beneath it.
            labels = {c.label for c in question.choices}
            for reply in replies:
                if reply["title"].endswith("…") and reply["title"] not in labels:
                    assert reply["description"] in labels or reply["description"].endswith("…")


# --- smaller parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "limit", "shown"),
    [
        ("Je suis au lycée ou en études", 24, "Je suis au lycée ou en…"),
        ("Villeneuve-la-Garenne (Caravelle) (ouvert)", 24, "Villeneuve-la-Garenne…"),
        ("Marseille, quartiers nord", 24, "Marseille, quartiers…"),
        ("Marseille, quartiers nord", 20, "Marseille…"),
        ("Anticonstitutionnellement", 10, "Anticonst…"),
        ("Court", 24, "Court"),
        ("Émojis 😅😅😅😅😅😅😅😅😅", 12, "Émojis…"),
    ],
)
def test_a_label_is_cut_after_a_whole_word(label: str, limit: int, shown: str) -> None:
    assert cut(label, limit) == shown
    assert width(cut(label, limit)) <= limit


def test_cutting_a_huge_text_costs_no_more_than_a_short_one() -> None:
    assert width(cut("x" * 1_000_000, 1024)) <= 1024
    assert width(cut("mot " * 250_000, 1024)) <= 1024


def test_french_numbers_are_shown_in_pairs() -> None:
    assert readable_number("+33612345678") == "+33 6 12 34 56 78"
    assert readable_number("+16505551234") == "+16505551234"


def test_a_template_message_with_clean_parameters() -> None:
    call = template_call(
        WA_ID, "relance", "fr", ["Marie\nChristine", "a\tb      c", "", "x" * 2000]
    )
    assert call == ApiCall(
        "message",
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "template",
            "template": {
                "name": "relance",
                "language": {"code": "fr"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Marie Christine"},
                            {"type": "text", "text": "a b c"},
                            {"type": "text", "text": "-"},
                            {"type": "text", "text": "x" * 1023 + "…"},
                        ],
                    }
                ],
            },
        },
        chat_id=int(WA_ID),
    )
    bare = template_call(WA_ID, "bonjour", "en", [])
    assert bare.payload["template"] == {"name": "bonjour", "language": {"code": "en"}}
    assert clean_parameter("  deux  mots ") == "deux mots"
