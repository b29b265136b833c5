"""The WhatsApp channel inside the service: Meta's notifications in, Graph API messages out
(the fake Graph API on 127.0.0.1)."""

from __future__ import annotations

from tests.auxil import whatsapp_payloads as wa
from tests.auxil.whatsapp_chat import offered
from tests.auxil.whatsapp_harness import WhatsAppHarness


async def test_a_first_message_gets_the_welcome_and_the_consent_buttons(
    whatsapp: WhatsAppHarness,
) -> None:
    [welcome] = await whatsapp.send(wa.text_message("Bonjour"))
    assert welcome["to"] == wa.USER_WA_ID
    assert welcome["interactive"]["body"]["text"].startswith("Salut ! 👋")
    assert [title for _, title in offered(welcome)] == ["Oui, c'est OK", "Non merci"]
