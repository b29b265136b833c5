"""A person on WhatsApp answering the question on screen as a persona would (personas.py):
pressing a reply button or a list row, typing numbers for a multi-select, accepting that their
WhatsApp number be used, or typing."""

from __future__ import annotations

from typing import Any

from tests.auxil import whatsapp_payloads as wa


def offered(message: dict[str, Any]) -> list[tuple[str, str]]:
    """The (id, title) of the buttons or list rows of a Graph API message, in order."""
    if message.get("type") != "interactive":
        return []
    interactive = message["interactive"]
    action = interactive["action"]
    if interactive["type"] == "button":
        return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
    return [(row["id"], row["title"]) for s in action["sections"] for row in s["rows"]]


def answer_message(
    last: dict[str, Any], asked: dict[str, Any], reply: dict[str, Any], *, wa_id: str
) -> dict[str, Any]:
    """The message a person sends to give ``reply`` to ``asked`` (shown in ``last``)."""
    options = offered(last)
    if "choice" in reply:
        found = [
            (i, t) for i, t in options if i.startswith("c|") and i.endswith("|" + reply["choice"])
        ]
        if found:
            reply_id, title = found[0]
            if last["interactive"]["type"] == "button":
                return wa.button_reply(reply_id, title, wa_id=wa_id)
            return wa.list_reply(reply_id, title, wa_id=wa_id)
        # More choices than a list holds: numbered lines, answered with a number.
        values = [c["value"] for c in asked["choices"]]
        return wa.text_message(str(values.index(reply["choice"]) + 1), wa_id=wa_id)
    if "choices" in reply:
        if not reply["choices"]:
            none_id, title = next((i, t) for i, t in options if i.startswith("m|"))
            return wa.button_reply(none_id, title, wa_id=wa_id)
        values = [c["value"] for c in asked["choices"]]
        numbers = ", ".join(str(values.index(v) + 1) for v in reply["choices"])
        return wa.text_message(numbers, wa_id=wa_id)
    if asked["kind"] == "phone":
        share_id, title = next((i, t) for i, t in options if i.startswith("p|"))
        return wa.button_reply(share_id, title, wa_id=wa_id)
    return wa.text_message(reply["text"], wa_id=wa_id)
