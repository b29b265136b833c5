"""The WhatsApp channel end to end inside the service: Meta's notifications in, Graph API
messages out (the fake Graph API on 127.0.0.1)."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from tests.auxil import whatsapp_payloads as wa
from tests.auxil.whatsapp_harness import whatsapp_service


def _shown(message: dict[str, Any]) -> str:
    if message["type"] == "text":
        return str(message["text"]["body"])
    if message["type"] == "interactive":
        return str(message["interactive"]["body"]["text"])
    return json.dumps(message)


async def test_a_first_message_gets_the_welcome_with_buttons(settings: Settings) -> None:
    async with whatsapp_service(settings) as whatsapp:
        sent = await whatsapp.send(wa.text_message("Bonjour"))
    assert sent, "nothing was sent"
    print(json.dumps(sent, ensure_ascii=False, indent=1))
    assert sent[-1]["to"] == wa.USER_WA_ID


import json  # noqa: E402
