"""WhatsApp over real sockets: Meta's handshake, signed notifications POSTed to the webhook,
replies through our Graph API client to the fake Graph API, the lead delivered signed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bot.channels.whatsapp import CHANNEL
from bot.clock import utcnow
from bot.conversations.counsellor import send_staff_message
from bot.partners.whatsapp_link import whatsapp_first_message
from bot.settings import Settings
from bot.storage.database import Database, open_database
from flows.profile import Profile
from flows.rules import orient
from flows.state import ConversationState
from tests.auxil import whatsapp_payloads as wa
from tests.auxil.fake_graph_api import FakeGraphApi
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from tests.auxil.servers import serve
from tests.auxil.stored_rows import conversation_row
from tests.auxil.webhook_receiver import Receiver, register_endpoint, register_referrer
from tests.auxil.whatsapp_chat import answer_message
from tests.auxil.whatsapp_harness import VERIFY_TOKEN, whatsapp_settings
from webhook.app import create_app
from webhook.handoff.signing import new_secret

PERSON = "33698765432"
# Meta's timestamp of the person's messages: 25 hours ago, so the window is closed after.
YESTERDAY = int(time.time()) - 25 * 3600


async def post(http: httpx.AsyncClient, message: dict[str, Any]) -> None:
    """POST a notification as Meta does: the raw JSON, signed with the app secret."""
    body = wa.raw(wa.notification(messages=[message]))
    response = await http.post(
        "/whatsapp/webhook",
        content=body,
        headers={"X-Hub-Signature-256": wa.sign(body), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


async def settled(fake: FakeGraphApi, before: int, wait: float = 10.0) -> list[dict[str, Any]]:
    """The messages sent to the person after the first ``before``, once a reply arrived and the
    service stayed quiet a moment."""
    deadline = time.monotonic() + wait
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        sent = [m for m in fake.messages() if m["to"] == PERSON][before:]
        if len(sent) != seen:
            seen, quiet_since = len(sent), time.monotonic()
        elif sent and time.monotonic() - quiet_since > 0.15:
            return sent
        await asyncio.sleep(0.02)
    raise AssertionError("no reply")


async def state_of(reader: Database) -> ConversationState:
    row = await conversation_row(reader, PERSON)
    assert row is not None
    return ConversationState.model_validate(row.state)


async def test_from_a_wa_me_link_to_a_signed_lead_and_a_template_after_a_day(
    settings: Settings,
) -> None:
    profile = SAMIR_IN_PANTIN
    receiver, secret = Receiver(), new_secret()
    reader = open_database(settings.database_url)
    async with FakeGraphApi() as fake:
        configured = whatsapp_settings(
            settings,
            fake,
            whatsapp_template_counsellor="message_conseiller",
            public_url="https://bot.example.org",
        )
        app = create_app(configured)
        app.state.whatsapp.pipeline.sender.chat_pace.interval = 0.05
        with receiver.running() as hook, serve(app) as url:
            await register_endpoint(reader, hook, secret=secret)
            async with reader.transaction() as tx:
                await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
            async with httpx.AsyncClient(base_url=url) as http:
                # Meta's handshake, when PôleS sets the webhook up in the app dashboard.
                handshake = await http.get(
                    "/whatsapp/webhook",
                    params={
                        "hub.mode": "subscribe",
                        "hub.verify_token": VERIFY_TOKEN,
                        "hub.challenge": "1158201444",
                    },
                )
                assert (handshake.status_code, handshake.text) == (200, "1158201444")
                # The partner's wa.me link prefilled the first message with its code.
                first = wa.text_message(
                    whatsapp_first_message("ML_POISSY"), wa_id=PERSON, timestamp=YESTERDAY
                )
                await post(http, first)
                shown = await settled(fake, 0)
                kinds: set[str] = set()
                for _ in range(40):
                    state = await state_of(reader)
                    if state.done:
                        break
                    async with reader.transaction() as tx:
                        peeked = await app.state.conversations.peek(
                            tx, channel=CHANNEL, external_id=PERSON
                        )
                    assert peeked is not None
                    question = peeked[1][-1].question
                    assert question is not None
                    asked = question.model_dump()
                    reply = answer_for(asked, profile)
                    answer = answer_message(shown[-1], asked, reply, wa_id=PERSON)
                    answer["timestamp"] = str(YESTERDAY)
                    kinds.add(answer["type"] + ":" + answer.get("interactive", {}).get("type", ""))
                    count = len([m for m in fake.messages() if m["to"] == PERSON])
                    await post(http, answer)
                    shown = await settled(fake, count)
                state = await state_of(reader)
                await receiver.wait_for(1)
                # A counsellor writes more than a day after the person's last message (Meta
                # dated them yesterday): only an approved template may reach them now.
                held = None
                async with reader.transaction() as tx:
                    lead = await tx.fetch_one("SELECT id FROM leads")
                    assert lead is not None
                    held = await send_staff_message(
                        tx,
                        app.state.conversations.writers,
                        lead["id"],
                        author="camille@poles.example",
                        body="Bonjour Samir,\nrappelle-moi au 01 23 45 67 89 !",
                        now=utcnow(),
                    )
                await fake.wait_for_messages(len(fake.messages()) + 1)
    await reader.close()
    assert state.done
    # Buttons, a list, typed answers, numbers and the shared number were all used.
    assert {"interactive:button_reply", "interactive:list_reply", "text:"} <= kinds
    expected = orient(Profile.model_validate(profile)).model_dump(mode="json")
    [created] = receiver.verified(secret)
    assert created["type"] == "lead.created"
    assert created["data"]["channel"] == "whatsapp"
    assert created["data"]["referrer_code"] == "ML_POISSY"
    assert created["data"]["orientation"] == expected
    # The number WhatsApp gave, accepted by the person, is the lead's contact.
    assert created["data"]["contact"]["phone"] == "+" + PERSON
    assert held is not None
    assert held.reached
    template = fake.messages()[-1]
    assert template["type"] == "template"
    assert template["template"]["name"] == "message_conseiller"
    [parameter] = template["template"]["components"][0]["parameters"]
    assert "\n" not in parameter["text"]
    assert "rappelle-moi" in parameter["text"]
