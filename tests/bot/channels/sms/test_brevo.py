"""Brevo's SMS endpoint through the real client against a fake on a real socket: what reaches
Brevo, and how each refusal becomes the pipeline's SlowDown, Refused or Unreachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.channels.sms.brevo import BrevoSms
from bot.messaging.messenger import Refused, SlowDown, Unreachable
from tests.auxil.fake_sms_api import FakeSmsApi
from tests.auxil.servers import unused_port

SECRET_TEXT = "Rappel : réunion demain à 10 h, 12 rue des Lilas"
REPORT_URL = "https://aiguillage.example/sms/webhook?token=s3cret"


def payload(content: str = SECRET_TEXT) -> dict[str, Any]:
    return {
        "sms_id": 7,
        "booking_id": "0" * 32,
        "body": {
            "recipient": "33612345678",
            "content": content,
            "type": "transactional",
            "tag": "7",
            "unicodeEnabled": False,
        },
    }


@pytest.fixture
async def brevo() -> AsyncIterator[FakeSmsApi]:
    async with FakeSmsApi() as fake:
        yield fake


@pytest.fixture
async def provider(brevo: FakeSmsApi) -> AsyncIterator[BrevoSms]:
    sms = BrevoSms(brevo.api_url, brevo.api_key, "PoleS", report_url=REPORT_URL)
    yield sms
    await sms.aclose()


async def test_an_sms_reaches_brevo_with_the_key_the_sender_and_where_to_report(
    brevo: FakeSmsApi, provider: BrevoSms
) -> None:
    message_id = await provider.send(payload())

    [call] = brevo.calls
    assert call.path == "/v3/transactionalSMS/send"
    assert call.api_key == brevo.api_key
    assert call.body == {**payload()["body"], "sender": "PoleS", "webUrl": REPORT_URL}
    assert message_id == "1511882900176220"  # Brevo's id, which its reports name


async def test_without_a_public_address_brevo_is_given_no_report_url(brevo: FakeSmsApi) -> None:
    sms = BrevoSms(brevo.api_url, brevo.api_key, "PoleS")
    try:
        await sms.send(payload())
    finally:
        await sms.aclose()
    assert "webUrl" not in brevo.calls[0].body


async def test_a_wrong_key_is_retried_later_not_dropped(brevo: FakeSmsApi) -> None:
    sms = BrevoSms(brevo.api_url, "xkeysib-revoked", "PoleS")
    try:
        with pytest.raises(Unreachable, match="HTTP 401 unauthorized"):
            await sms.send(payload())
    finally:
        await sms.aclose()


async def test_a_429_asks_to_wait_as_long_as_brevo_says(
    brevo: FakeSmsApi, provider: BrevoSms
) -> None:
    brevo.fail_next(429, "too_many_requests", headers={"x-sib-ratelimit-reset": "7"})
    with pytest.raises(SlowDown) as raised:
        await provider.send(payload())
    assert raised.value.seconds == 7.0
    assert not raised.value.chat_only


async def test_a_429_without_a_hint_waits_a_few_seconds(
    brevo: FakeSmsApi, provider: BrevoSms
) -> None:
    brevo.fail_next(429)
    with pytest.raises(SlowDown) as raised:
        await provider.send(payload())
    assert raised.value.seconds == 5.0


async def test_a_bad_request_is_refused_for_good_without_quoting_the_sms(
    brevo: FakeSmsApi, provider: BrevoSms
) -> None:
    brevo.fail_next(400, "invalid_parameter", message=f"Invalid content {SECRET_TEXT} 33612345678")
    with pytest.raises(Refused) as raised:
        await provider.send(payload())
    assert str(raised.value) == "HTTP 400 invalid_parameter"
    assert not raised.value.blocked


@pytest.mark.parametrize("status", [402, 500, 503])
async def test_no_credits_or_a_server_error_is_tried_again(
    brevo: FakeSmsApi, provider: BrevoSms, status: int
) -> None:
    brevo.fail_next(status, "not_enough_credits" if status == 402 else None)
    with pytest.raises(Unreachable):
        await provider.send(payload())
    # The next try goes through.
    assert await provider.send(payload()) is not None


async def test_a_slow_answer_times_out_as_unreachable(brevo: FakeSmsApi) -> None:
    client = httpx.AsyncClient(timeout=httpx.Timeout(0.2))
    sms = BrevoSms(brevo.api_url, brevo.api_key, "PoleS", client=client)
    brevo.delay_next(2.0)
    try:
        with pytest.raises(Unreachable, match="ReadTimeout"):
            await sms.send(payload())
    finally:
        await client.aclose()


async def test_brevo_down_is_unreachable() -> None:
    sms = BrevoSms(f"http://127.0.0.1:{unused_port()}/v3", "key", "PoleS")
    try:
        with pytest.raises(Unreachable, match="ConnectError"):
            await sms.send(payload())
    finally:
        await sms.aclose()
