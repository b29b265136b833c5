"""The WhatsApp messenger against a fake Graph API on a real socket: what reaches Meta, and how
each of Meta's refusals becomes the pipeline's SlowDown, Refused or Unreachable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.channels.whatsapp.graph_api import WhatsAppMessenger
from bot.messaging.messenger import Messenger, Refused, SlowDown, Unreachable
from tests.auxil.fake_graph_api import FakeGraphApi
from tests.auxil.servers import unused_port
from tests.auxil.whatsapp_payloads import USER_WA_ID

SECRET_TEXT = "Bonjour Sheena, ton code postal 75011 est bien noté"


def text_payload(body: str = SECRET_TEXT, to: str = USER_WA_ID) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": body},
    }


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphApi]:
    async with FakeGraphApi() as fake:
        yield fake


@pytest.fixture
async def messenger(graph: FakeGraphApi) -> AsyncIterator[WhatsAppMessenger]:
    messenger = WhatsAppMessenger(graph.api_url, graph.phone_number_id, graph.token)
    yield messenger
    await messenger.aclose()


async def test_a_message_reaches_meta_with_the_bearer_token_and_its_json(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    await messenger.call("message", text_payload())

    [call] = graph.calls
    assert call.path == f"/v23.0/{graph.phone_number_id}/messages"
    assert call.authorization == f"Bearer {graph.token}"
    assert call.body == text_payload()
    assert graph.messages() == [text_payload()]


async def test_it_is_a_messenger_whose_calls_are_all_messages(
    messenger: WhatsAppMessenger,
) -> None:
    as_protocol: Messenger = messenger
    assert as_protocol.channel == "whatsapp"
    assert as_protocol.unpaced == frozenset()


async def test_messages_sent_concurrently_are_all_recorded(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    bodies = [f"message {n}" for n in range(5)]
    sending = asyncio.gather(*(messenger.call("message", text_payload(b)) for b in bodies))

    taken = await graph.wait_for_messages(5)
    await sending

    assert sorted(m["text"]["body"] for m in taken) == bodies


@pytest.mark.parametrize(
    ("code", "status", "seconds"),
    [
        (130429, 400, 1.0),  # the number's throughput
        (131056, 400, 6.0),  # too many messages to the same person
        (4, 400, 60.0),  # the app's call rate
        (80007, 400, 60.0),  # the business account's rate
        (None, 429, 5.0),  # a bare 429
    ],
)
async def test_throttling_asks_everyone_to_slow_down(
    graph: FakeGraphApi,
    messenger: WhatsAppMessenger,
    code: int | None,
    status: int,
    seconds: float,
) -> None:
    graph.fail_next(code, status=status)

    with pytest.raises(SlowDown) as raised:
        await messenger.call("message", text_payload())

    assert raised.value.seconds == seconds
    # Not taken: the outbox sends it again after the pause.
    assert graph.messages() == []
    await messenger.call("message", text_payload())
    assert len(graph.messages()) == 1


async def test_a_retry_after_header_wins_over_the_default_pause(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    graph.fail_next(130429, status=429, retry_after="17")

    with pytest.raises(SlowDown) as raised:
        await messenger.call("message", text_payload())

    assert raised.value.seconds == 17.0


async def test_after_24_hours_of_silence_the_call_is_refused_but_the_person_is_not_blocked(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    graph.fail_next(131047)

    with pytest.raises(Refused) as raised:
        await messenger.call("message", text_payload())

    assert str(raised.value) == "131047 re-engagement needed"
    assert raised.value.blocked is False


@pytest.mark.parametrize("code", [131026, 131050])
async def test_a_person_who_cannot_be_reached_counts_as_blocked(
    graph: FakeGraphApi, messenger: WhatsAppMessenger, code: int
) -> None:
    graph.fail_next(code)

    with pytest.raises(Refused) as raised:
        await messenger.call("message", text_payload())

    assert raised.value.blocked is True
    assert str(raised.value).startswith(f"{code} ")


@pytest.mark.parametrize(
    ("code", "status"),
    [(None, 500), (None, 502), (None, 503), (131000, 500), (131000, 400), (131016, 503)],
)
async def test_meta_failing_on_its_side_is_unreachable_for_now(
    graph: FakeGraphApi, messenger: WhatsAppMessenger, code: int | None, status: int
) -> None:
    graph.fail_next(code, status=status)

    with pytest.raises(Unreachable):
        await messenger.call("message", text_payload())


async def test_a_slow_answer_is_unreachable_not_lost(graph: FakeGraphApi) -> None:
    graph.delay_next(2.0)
    impatient = httpx.AsyncClient(timeout=httpx.Timeout(0.2))
    messenger = WhatsAppMessenger(
        graph.api_url, graph.phone_number_id, graph.token, client=impatient
    )

    with pytest.raises(Unreachable, match="ReadTimeout"):
        await messenger.call("message", text_payload())

    await messenger.aclose()
    assert not impatient.is_closed  # a client it was given is the giver's to close
    await impatient.aclose()


async def test_nobody_listening_is_unreachable() -> None:
    messenger = WhatsAppMessenger(f"http://127.0.0.1:{unused_port()}/v23.0", "1", "token")

    with pytest.raises(Unreachable, match="ConnectError"):
        await messenger.call("message", text_payload())

    await messenger.aclose()


async def test_a_wrong_token_or_number_is_refused(graph: FakeGraphApi) -> None:
    wrong_token = WhatsAppMessenger(graph.api_url, graph.phone_number_id, "not-the-token")
    wrong_number = WhatsAppMessenger(graph.api_url, "999", graph.token)

    with pytest.raises(Refused) as token_refused:
        await wrong_token.call("message", text_payload())
    with pytest.raises(Refused) as number_refused:
        await wrong_number.call("message", text_payload())

    assert str(token_refused.value).startswith("190 ")
    assert str(number_refused.value).startswith("100 ")
    assert not token_refused.value.blocked
    assert not number_refused.value.blocked
    assert [call.status for call in graph.calls] == [401, 404]
    await wrong_token.aclose()
    await wrong_number.aclose()


async def test_other_refusals_name_the_code_and_title_and_never_what_was_sent(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    # Meta's details quote parameters; a title may too. Outbox rows and logs keep the reason.
    graph.fail_next(100, details=f"Param text['body'] '{SECRET_TEXT}' is invalid")
    graph.fail_next(100, message=f"(#100) Param text['body'] '{SECRET_TEXT}' too long")
    graph.fail_next(100, message=f"(#100) Recipient {USER_WA_ID} is not valid")

    reasons = []
    for _ in range(3):
        with pytest.raises(Refused) as raised:
            await messenger.call("message", text_payload())
        reasons.append(raised.value)

    assert [str(reason) for reason in reasons] == ["100 Invalid parameter", "100", "100"]
    for reason in reasons:
        assert not reason.blocked
        shown = repr(reason) + repr(reason.args)
        assert SECRET_TEXT not in shown
        assert USER_WA_ID not in shown


async def test_a_refusal_without_a_graph_error_names_the_http_status(
    graph: FakeGraphApi, messenger: WhatsAppMessenger
) -> None:
    graph.fail_next(status=403)

    with pytest.raises(Refused, match=r"^HTTP 403$"):
        await messenger.call("message", text_payload())
