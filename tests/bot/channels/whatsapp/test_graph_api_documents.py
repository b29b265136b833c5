"""Documents on WhatsApp against the fake Graph API: the stored file is uploaded to Meta's media
endpoint first (as a type Meta takes), then sent by the id Meta gave, with its name and caption;
a refused upload is told like any refused call, and no message follows it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.channels.whatsapp.graph_api import WhatsAppMessenger
from bot.channels.whatsapp.render import MAX_CAPTION, document_call
from bot.messaging.messenger import Refused, SlowDown, Unreachable
from tests.auxil.fake_graph_api import FakeGraphApi
from tests.auxil.whatsapp_payloads import USER_WA_ID

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:R\xc3\xa9union\r\nEND:VCALENDAR\r\n"
CAPTION = "Ton rendez-vous, à ajouter à ton agenda 📅"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphApi]:
    async with FakeGraphApi() as fake:
        yield fake


@pytest.fixture
async def messenger(graph: FakeGraphApi) -> AsyncIterator[WhatsAppMessenger]:
    messenger = WhatsAppMessenger(graph.api_url, graph.phone_number_id, graph.token)
    yield messenger
    await messenger.aclose()


def stored_call() -> tuple[str, dict[str, object]]:
    """The call as the sender reads it back from the outbox (its payload kept as JSON)."""
    call = document_call(USER_WA_ID, "rendez-vous.ics", ICS, CAPTION)
    return call.method, json.loads(json.dumps(call.payload))


async def test_a_calendar_file_is_uploaded_as_text_then_sent_as_a_named_document(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    await messenger.call(*stored_call())

    upload, send = graph.calls
    assert upload.path == f"/v23.0/{graph.phone_number_id}/media"
    assert upload.authorization == f"Bearer {graph.token}"
    assert upload.body["messaging_product"] == "whatsapp"
    # Meta takes no text/calendar: plain text, the name keeping its .ics.
    [media] = graph.media
    assert (media.type, media.filename, media.content) == ("text/plain", "rendez-vous.ics", ICS)
    assert send.path == f"/v23.0/{graph.phone_number_id}/messages"
    assert graph.messages() == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": USER_WA_ID,
            "type": "document",
            "document": {"id": media.id, "filename": "rendez-vous.ics", "caption": CAPTION},
        }
    ]


async def test_a_type_meta_takes_is_uploaded_as_it_is(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    call = document_call(USER_WA_ID, "plan.pdf", b"%PDF-1.7", "", mime_type="application/pdf")

    await messenger.call(call.method, call.payload)

    [media] = graph.media
    assert media.type == "application/pdf"
    [message] = graph.messages()
    assert message["document"] == {"id": media.id, "filename": "plan.pdf"}


def test_the_call_names_its_chat_and_cuts_a_long_caption() -> None:
    call = document_call(USER_WA_ID, "rendez-vous.ics", ICS, "mot " * 400)

    assert call.chat == int(USER_WA_ID)
    assert len(call.payload["caption"]) <= MAX_CAPTION


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        (130429, 400, SlowDown),  # the number's throughput
        (None, 503, Unreachable),  # Meta down for a moment
        (131000, 500, Unreachable),  # "something went wrong"
        (100, 400, Refused),  # a bad parameter: never taken
    ],
)
async def test_a_refused_upload_is_told_as_any_call_and_nothing_is_sent(
    graph: FakeGraphApi,
    messenger: WhatsAppMessenger,
    code: int | None,
    status: int,
    error: type[Exception],
) -> None:
    graph.fail_next(code, status=status)

    with pytest.raises(error):
        await messenger.call(*stored_call())

    [upload] = graph.calls
    assert upload.path.endswith("/media")
    assert graph.messages() == []
    # The outbox tries again later: the whole document goes then.
    await messenger.call(*stored_call())
    assert len(graph.messages()) == 1


async def test_a_message_refused_after_the_upload_is_told_as_usual(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    graph.delay_next(0.0)  # the upload goes through
    graph.fail_next(131047)  # the message: more than 24 hours since the person wrote

    with pytest.raises(Refused, match="131047"):
        await messenger.call(*stored_call())

    assert len(graph.media) == 1
    assert graph.messages() == []


async def test_a_refusal_never_quotes_the_file_or_the_caption(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    method, payload = stored_call()
    graph.fail_next(100, message=f"(#100) Invalid parameter: {CAPTION}")

    with pytest.raises(Refused) as raised:
        await messenger.call(method, payload)

    assert str(raised.value) == "100"


async def test_a_damaged_stored_document_is_refused_without_a_call(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    method, payload = stored_call()
    payload["document"] = {"filename": "rendez-vous.ics", "content_base64": "not base64!"}

    with pytest.raises(Refused):
        await messenger.call(method, payload)

    assert graph.calls == []
