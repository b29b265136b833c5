"""Turning a reply into Graph API messages, within WhatsApp's limits.

A question of up to three short answers gets reply buttons, up to ten a list, more a numbered
list to answer with a number; a multi-select is numbered (a list takes one answer) with a button
for "none"; the phone question offers the number WhatsApp already knows. Every call names its
chat (``ApiCall.chat_id``): the Graph API's recipient is a phone number, not a chat id.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from bot.channels.buttons import callback_data
from bot.channels.text_pieces import split_text
from bot.channels.whatsapp.words import whatsapp_wording
from bot.messaging.outbox import ApiCall
from flows.i18n import Language, text
from flows.render import RenderedMessage, RenderedQuestion

# https://developers.facebook.com/docs/whatsapp/cloud-api/messages/ (text, interactive).
MAX_TEXT = 4096
# A reply-buttons message's body; a list's may be longer (4096) in today's documentation, but
# was 1024 before: 1024 holds for both.
MAX_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON = 20
MAX_SECTION_TITLE = 24
# A document's caption (the Cloud API's "Document messages" page).
MAX_CAPTION = 1024
# A template's body parameter: no line breaks or tabs, no more than four spaces in a row, and
# the template's body within 1024 characters.
MAX_PARAMETER = 1024
# What a cut label does not end with before its "…".
_TRAILING = " ,;:(-"
_FRENCH_NUMBER = re.compile(r"\+33([1-9])([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})")


def width(value: str) -> int:
    """A text's length as limits are counted where it matters most (UTF-16: an emoji is 2)."""
    return len(value.encode("utf-16-le")) // 2


def numbered_choice(question: RenderedQuestion) -> bool:
    """Whether a choice is shown as numbered lines: more answers than a list holds."""
    return question.kind == "choice" and len(question.choices) > MAX_ROWS


def readable_number(number: str) -> str:
    """A number as people read it: French ones grouped by two (+33 6 12 34 56 78)."""
    french = _FRENCH_NUMBER.fullmatch(number)
    return "+33 " + " ".join(french.groups()) if french else number


def _message(wa_id: str, kind: str, content: dict[str, Any]) -> ApiCall:
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_id,
        "type": kind,
        kind: content,
    }
    return ApiCall("message", body, chat_id=int(wa_id))


def text_calls(wa_id: str, body: str) -> list[ApiCall]:
    """A text as text messages of at most 4096 characters."""
    return [_message(wa_id, "text", {"body": piece}) for piece in split_text(body, MAX_TEXT)]


def reply_calls(
    wa_id: str, messages: list[RenderedMessage], *, step: str | None, language: Language
) -> list[ApiCall]:
    """The messages of a reply: its texts joined, the question's buttons or list on the last."""
    joined = "\n\n".join(m.text for m in messages if m.text)
    body = whatsapp_wording(joined, language)
    question = messages[-1].question if messages else None
    if question is None:
        return text_calls(wa_id, body)
    step = step or ""
    if question.kind == "choice" and question.choices:
        if numbered_choice(question):
            answer = text("whatsapp.answer_number", language)
            return text_calls(wa_id, f"{body}\n\n{_numbered(question)}\n\n{answer}")
        if _fits_buttons(question):
            buttons = [(callback_data("c", step, c.value), c.label) for c in question.choices]
            return _interactive(wa_id, body, _buttons(buttons))
        return _interactive(wa_id, body, _list_action(question, step, language))
    if question.kind == "multi":
        answer = text("whatsapp.answer_numbers", language)
        none = _none_label(question, language)
        action = _buttons([(callback_data("m", step, ""), none)])
        return _interactive(wa_id, f"{body}\n\n{_numbered(question)}\n\n{answer}", action)
    if question.kind == "phone":
        offer = text("whatsapp.phone_offer", language, number=readable_number("+" + wa_id))
        action = _buttons([(callback_data("p", step, "yes"), text("whatsapp.phone_yes", language))])
        return _interactive(wa_id, f"{body}\n\n{offer}", action)
    return text_calls(wa_id, body)


def _fits_buttons(question: RenderedQuestion) -> bool:
    return len(question.choices) <= MAX_BUTTONS and all(
        width(c.label) <= MAX_BUTTON_TITLE for c in question.choices
    )


def _numbered(question: RenderedQuestion) -> str:
    return "\n".join(f"{i}. {c.label}" for i, c in enumerate(question.choices, start=1))


def _none_label(question: RenderedQuestion, language: Language) -> str:
    """The multi's own "none" ("Rien de particulier") if it fits a button, else "Aucune"."""
    for label in (question.none, text("multi.none", language)):
        if label and width(label) <= MAX_BUTTON_TITLE:
            return label
    return cut(text("multi.none", language), MAX_BUTTON_TITLE)


def _buttons(buttons: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "button",
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": button_id, "title": title}}
                for button_id, title in buttons
            ]
        },
    }


def _list_action(question: RenderedQuestion, step: str, language: Language) -> dict[str, Any]:
    rows = []
    for choice in question.choices:
        row = {"id": callback_data("c", step, choice.value), "title": choice.label}
        if width(choice.label) > MAX_ROW_TITLE:
            # The title is cut; the row's description shows the whole answer under it.
            row["title"] = cut(choice.label, MAX_ROW_TITLE)
            row["description"] = cut(choice.label, MAX_ROW_DESCRIPTION)
        rows.append(row)
    return {
        "type": "list",
        "action": {
            "button": cut(text("whatsapp.list_button", language), MAX_LIST_BUTTON),
            "sections": [
                {
                    "title": cut(text("whatsapp.list_section", language), MAX_SECTION_TITLE),
                    "rows": rows,
                }
            ],
        },
    }


def _interactive(wa_id: str, body: str, interactive: dict[str, Any]) -> list[ApiCall]:
    """An interactive message; a body too long for it goes first as text, keeping its end."""
    before, last = _split_body(body)
    calls = [call for piece in before for call in text_calls(wa_id, piece)]
    content = {"type": interactive["type"], "body": {"text": last}, "action": interactive["action"]}
    calls.append(_message(wa_id, "interactive", content))
    return calls


def _split_body(body: str) -> tuple[list[str], str]:
    """The texts to send before an interactive message, and its body (at most MAX_BODY)."""
    if width(body) <= MAX_BODY:
        return [], body
    head, _, tail = body.rpartition("\n\n")
    if not (head and tail.strip() and width(tail) <= MAX_BODY):
        # No short last paragraph: cut the text so that its last piece fits (an emoji counts
        # twice at most, so half the limit in characters always does).
        *head_pieces, tail = split_text(body, MAX_BODY // 2)
        head = "\n\n".join(head_pieces)
    return ([head.rstrip()] if head.strip() else []), tail


def cut(label: str, limit: int) -> str:
    """A label within ``limit``, cut after a whole word with "…" when it is longer."""
    if width(label) <= limit:
        return label
    # Only the first ``limit`` characters can be kept (the next one tells whether the last
    # word was whole): a long text costs no more than a short one.
    label, kept = label[: limit + 1], ""
    for word in label.split(" "):
        candidate = f"{kept} {word}" if kept else word
        if width(candidate.rstrip(_TRAILING) + "…") > limit:
            break
        kept = candidate
    if not kept:
        # One long word: cut it.
        kept = label
        while width(kept + "…") > limit:
            kept = kept[:-1]
    return kept.rstrip(_TRAILING) + "…"


def clean_parameter(value: str) -> str:
    """A template parameter as Meta takes it: one line, single spaces, within 1024 characters,
    never empty."""
    one_line = " ".join(value.split())
    return cut(one_line, MAX_PARAMETER) if one_line else "-"


def template_call(wa_id: str, name: str, language_code: str, parameters: list[str]) -> ApiCall:
    """A template message (the only kind WhatsApp lets us send 24 hours after the person's last
    message), its body's parameters in order."""
    template: dict[str, Any] = {"name": name, "language": {"code": language_code}}
    if parameters:
        values = [{"type": "text", "text": clean_parameter(p)} for p in parameters]
        template["components"] = [{"type": "body", "parameters": values}]
    return _message(wa_id, "template", template)


def document_call(
    wa_id: str, filename: str, content: bytes, caption: str, mime_type: str = "text/calendar"
) -> ApiCall:
    """A document to send: the outbox keeps the file as base64 (its payload is JSON), and the
    messenger uploads it to Meta, then sends it by the media id Meta gives back
    (bot/channels/whatsapp/graph_api.py)."""
    document = {
        "filename": filename,
        "mime_type": mime_type,
        "content_base64": base64.b64encode(content).decode("ascii"),
    }
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "to": wa_id, "document": document}
    if caption:
        payload["caption"] = split_text(caption, MAX_CAPTION)[0]
    return ApiCall("sendDocument", payload, chat_id=int(wa_id))
