"""GET and POST /whatsapp/webhook as Meta (and strangers) call them: the subscription handshake,
the signature, and bodies of every wrong shape, none of which may store or send anything."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bot.storage.models import Conversation, InboxUpdate
from tests.auxil import whatsapp_payloads as wa
from tests.auxil.stored_rows import count_rows
from tests.auxil.whatsapp_harness import VERIFY_TOKEN, WhatsAppHarness
from webhook.channels.asgi import MAX_BODY_BYTES

URL = "/whatsapp/webhook"
CHALLENGE = "1158201444"


def _handshake(**overrides: str | None) -> dict[str, str]:
    """Meta's subscription GET's query; an override of None leaves the parameter out."""
    params: dict[str, str | None] = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": CHALLENGE,
        **overrides,
    }
    return {name: value for name, value in params.items() if value is not None}


def _hello() -> dict[str, Any]:
    """A notification that, if taken, would start a conversation and get the welcome."""
    return wa.notification(messages=[wa.text_message("Bonjour")])


async def _nothing_kept_or_sent(whatsapp: WhatsAppHarness) -> None:
    await whatsapp.settle()
    assert whatsapp.fake.calls == []
    database = whatsapp.app.state.database
    assert await count_rows(database, Conversation) == 0
    assert await count_rows(database, InboxUpdate) == 0


async def _still_answers(whatsapp: WhatsAppHarness) -> None:
    """The service took the bad call in its stride: a good notification is answered."""
    sent = await whatsapp.send(wa.text_message("Bonjour"))
    assert len(sent) == 1
    assert sent[0]["to"] == wa.USER_WA_ID


async def _answered_and_ignored(
    whatsapp: WhatsAppHarness,
    body: dict[str, Any] | bytes,
    status: int,
    *,
    signature: str | None = None,
) -> httpx.Response:
    """Post ``body``: answered ``status``, nothing kept or sent, and the next good notification
    answered as ever. The response, for what else a test reads in it."""
    response = await whatsapp.post(body, signature=signature)
    assert response.status_code == status, response.text
    await _nothing_kept_or_sent(whatsapp)
    await _still_answers(whatsapp)
    return response


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# --- The subscription handshake -------------------------------------------------------------


async def test_the_handshake_echoes_the_challenge_as_plain_text(
    whatsapp: WhatsAppHarness,
) -> None:
    response = await whatsapp.client.get(URL, params=_handshake())
    assert response.status_code == 200
    assert response.text == CHALLENGE
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        _handshake(**{"hub.verify_token": "not-our-token"}),
        _handshake(**{"hub.verify_token": VERIFY_TOKEN.upper()}),
        _handshake(**{"hub.verify_token": VERIFY_TOKEN + " "}),
        _handshake(**{"hub.verify_token": ""}),
        _handshake(**{"hub.verify_token": None}),
        _handshake(**{"hub.mode": "unsubscribe"}),
        _handshake(**{"hub.mode": None}),
        _handshake(**{"hub.challenge": None}),
        _handshake(**{"hub.challenge": ""}),
        _handshake(**{"hub.challenge": "<script>alert(1)</script>"}),
        _handshake(**{"hub.challenge": "<html><body>hi</body></html>"}),
        _handshake(**{"hub.challenge": "1158201444\r\nSet-Cookie: session=stolen"}),
        _handshake(**{"hub.challenge": "7" * 10_000}),
    ],
    ids=[
        "wrong-token",
        "token-in-other-case",
        "token-with-a-space",
        "empty-token",
        "no-token",
        "unsubscribe",
        "no-mode",
        "no-challenge",
        "empty-challenge",
        "script-challenge",
        "html-challenge",
        "header-injection",
        "10-kB-challenge",
    ],
)
async def test_a_wrong_handshake_is_refused_and_its_challenge_never_echoed(
    params: dict[str, str], whatsapp: WhatsAppHarness
) -> None:
    response = await whatsapp.client.get(URL, params=params)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")
    challenge = params.get("hub.challenge")
    if challenge:
        assert challenge not in response.text
    assert "set-cookie" not in response.headers
    assert VERIFY_TOKEN not in response.text


async def test_with_the_channel_off_the_webhook_is_not_found(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    assert app.state.whatsapp is None
    got = await client.get(URL, params=_handshake())
    body = wa.raw(_hello())
    posted = await client.post(URL, content=body, headers={"X-Hub-Signature-256": wa.sign(body)})
    assert (got.status_code, posted.status_code) == (404, 404)
    assert CHALLENGE not in got.text
    assert await count_rows(app.state.database, InboxUpdate) == 0


async def test_a_message_is_applied_and_answered_before_the_webhook_answers(
    whatsapp: WhatsAppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    response = await whatsapp.post(_hello())
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    # No settle(): the webhook itself stored the message, applied it and sent the reply.
    assert len(whatsapp.fake.messages()) == 1
    _no_traceback(caplog)
    async with whatsapp.app.state.database.transaction() as tx:
        stored = await tx.all(select(InboxUpdate.processed_at, InboxUpdate.attempts))
    assert len(stored) == 1
    processed_at, attempts = stored[0]
    assert processed_at is not None
    assert attempts == 1


# --- The signature --------------------------------------------------------------------------


def _sha1(body: bytes) -> str:
    return "sha1=" + hmac.new(wa.APP_SECRET.encode(), body, hashlib.sha1).hexdigest()


HELLO = wa.raw(_hello())
SIGNATURES = {
    "empty": "",
    "forged": "sha256=" + "0" * 64,
    "another-body": wa.sign(wa.raw(wa.notification(messages=[wa.text_message("Salut")]))),
    "another-secret": wa.sign(HELLO, "not-the-app-secret"),
    "sha1": _sha1(HELLO),
    "sha1-named-sha256": "sha256=" + _sha1(HELLO).removeprefix("sha1="),
    "no-prefix": wa.sign(HELLO).removeprefix("sha256="),
    "twice": wa.sign(HELLO) + "," + wa.sign(HELLO),
    "truncated": wa.sign(HELLO)[:-2],
    "padded": wa.sign(HELLO) + " ",
}


@pytest.mark.parametrize("signature", SIGNATURES.values(), ids=SIGNATURES.keys())
async def test_a_wrongly_signed_notification_is_refused_and_nothing_happens(
    signature: str, whatsapp: WhatsAppHarness
) -> None:
    response = await _answered_and_ignored(whatsapp, HELLO, 403, signature=signature)
    assert response.json()["detail"]


async def test_an_unsigned_notification_is_refused_and_nothing_happens(
    whatsapp: WhatsAppHarness,
) -> None:
    response = await whatsapp.client.post(
        URL, content=HELLO, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 403
    await _nothing_kept_or_sent(whatsapp)
    await _still_answers(whatsapp)


async def test_a_signature_in_upper_case_hex_is_still_meta_s(whatsapp: WhatsAppHarness) -> None:
    signature = "sha256=" + wa.sign(HELLO).removeprefix("sha256=").upper()
    response = await whatsapp.post(HELLO, signature=signature)
    assert response.status_code == 200
    await whatsapp.settle()
    assert len(whatsapp.fake.messages()) == 1


# --- Signed, yet not a notification ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe\x00", b"", b"null", b'"Bonjour"', b"12", b"\xed\xa0\xbd"],
    ids=["broken", "not-utf-8", "empty", "null", "a-string", "a-number", "surrogate-bytes"],
)
async def test_a_signed_body_that_is_no_json_object_is_answered_200_and_ignored(
    body: bytes, whatsapp: WhatsAppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # Meta retries anything but 200 for days, and the same bytes would fail the same way.
    await _answered_and_ignored(whatsapp, body, 200)
    _no_traceback(caplog)


def _nested(depth: int) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for _ in range(depth):
        nested = {"a": nested}
    return nested


def _envelope(value: Any) -> dict[str, Any]:
    change = {"field": "messages", "value": value}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": wa.WABA_ID, "changes": [change]}],
    }


def _value(**fields: Any) -> dict[str, Any]:
    metadata = {
        "display_phone_number": wa.DISPLAY_PHONE_NUMBER,
        "phone_number_id": wa.PHONE_NUMBER_ID,
    }
    return {"messaging_product": "whatsapp", "metadata": metadata, **fields}


def _hello_without(key: str) -> dict[str, Any]:
    message = wa.text_message("Bonjour")
    del message[key]
    return _envelope(_value(messages=[message]))


def _hello_with(**fields: Any) -> dict[str, Any]:
    return _envelope(_value(messages=[wa.text_message("Bonjour") | fields]))


DEEP = '{"object": "whatsapp_business_account", "entry": ' + "[" * 10_000 + "]" * 10_000 + "}"
WRONG_SHAPES: dict[str, bytes] = {
    "a-list": json.dumps([_hello()]).encode(),
    "page-only": json.dumps({"object": "page"}).encode(),
    "no-entry": json.dumps({"object": "whatsapp_business_account"}).encode(),
    "entry-not-a-list": json.dumps(
        {"object": "whatsapp_business_account", "entry": _hello()["entry"][0]}
    ).encode(),
    "entry-of-scalars": json.dumps(
        {"object": "whatsapp_business_account", "entry": ["x", 1, None, True]}
    ).encode(),
    "changes-not-a-list": json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"changes": {"field": "messages"}}]}
    ).encode(),
    "value-not-an-object": json.dumps(_envelope("Bonjour")).encode(),
    "another-field": json.dumps(
        _hello() | {"entry": [{"changes": [_hello()["entry"][0]["changes"][0] | {"field": "x"}]}]}
    ).encode(),
    "no-metadata": json.dumps(_envelope({"messages": [wa.text_message("Bonjour")]})).encode(),
    "messages-not-a-list": json.dumps(
        _envelope(_value(messages=wa.text_message("Bonjour")))
    ).encode(),
    "messages-of-scalars": json.dumps(_envelope(_value(messages=["Bonjour", 7, None]))).encode(),
    "no-from": json.dumps(_hello_without("from")).encode(),
    "no-id": json.dumps(_hello_without("id")).encode(),
    "no-timestamp": json.dumps(_hello_without("timestamp")).encode(),
    "from-a-number": json.dumps(_hello_with(**{"from": int(wa.USER_WA_ID)})).encode(),
    "from-not-a-phone": json.dumps(_hello_with(**{"from": "+16505551234"})).encode(),
    "from-too-long": json.dumps(_hello_with(**{"from": "1" * 16})).encode(),
    "from-an-object": json.dumps(_hello_with(**{"from": {"wa_id": wa.USER_WA_ID}})).encode(),
    "id-too-long": json.dumps(_hello_with(id="wamid." + "A" * 300)).encode(),
    "id-empty": json.dumps(_hello_with(id="")).encode(),
    "timestamp-a-number": json.dumps(_hello_with(timestamp=1_700_000_000)).encode(),
    "timestamp-negative": json.dumps(_hello_with(timestamp="-1")).encode(),
    "timestamp-huge": json.dumps(_hello_with(timestamp="9" * 40)).encode(),
    "nested-in-a-message": json.dumps(
        _hello_with(text={"body": "Bonjour", "x": _nested(200)})
    ).encode(),
    "nested-10000-levels": DEEP.encode(),
    "statuses-of-scalars": json.dumps(_envelope(_value(statuses=["failed", 1]))).encode(),
    "failed-status-without-recipient": json.dumps(
        _envelope(_value(statuses=[{"id": "wamid.x", "status": "failed", "timestamp": "1"}]))
    ).encode(),
    "errors-of-scalars": json.dumps(_envelope(_value(errors=["x", {"code": "131000"}]))).encode(),
}


@pytest.mark.parametrize("body", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
async def test_a_signed_notification_of_the_wrong_shape_stores_and_sends_nothing(
    body: bytes, whatsapp: WhatsAppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await _answered_and_ignored(whatsapp, body, 200)
    _no_traceback(caplog)


async def test_a_notification_about_another_object_than_whatsapp_is_ignored(
    whatsapp: WhatsAppHarness,
) -> None:
    page = _hello() | {"object": "page"}
    response = await whatsapp.post(page)
    assert response.status_code == 200
    await _nothing_kept_or_sent(whatsapp)


async def test_a_signed_body_past_the_limit_gets_413_before_anything_reads_it(
    whatsapp: WhatsAppHarness,
) -> None:
    notification = wa.notification(messages=[wa.text_message("a" * (MAX_BODY_BYTES + 1))])
    body = wa.raw(notification)
    assert len(body) > MAX_BODY_BYTES
    await _answered_and_ignored(whatsapp, body, 413)


async def test_a_notification_for_another_number_is_answered_200_and_ignored(
    whatsapp: WhatsAppHarness,
) -> None:
    other = wa.notification(messages=[wa.text_message("Bonjour")], phone_number_id="999000111")
    await _answered_and_ignored(whatsapp, other, 200)


async def test_of_two_numbers_in_one_notification_only_ours_is_answered(
    whatsapp: WhatsAppHarness,
) -> None:
    ours = wa.notification(messages=[wa.text_message("Bonjour")])
    theirs = wa.notification(
        messages=[wa.text_message("Bonjour", wa_id="33600000001")], phone_number_id="999000111"
    )
    both = ours | {"entry": theirs["entry"] + ours["entry"]}
    response = await whatsapp.post(both)
    assert response.status_code == 200
    await whatsapp.settle()
    assert [m["to"] for m in whatsapp.fake.messages()] == [wa.USER_WA_ID]


async def test_the_log_never_holds_the_number_the_name_or_the_text(
    whatsapp: WhatsAppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await whatsapp.send(wa.text_message("Bonjour Aiguillage"))
    await whatsapp.post(wa.notification(statuses=[wa.failed_status(wa.new_message_id(), 131026)]))
    await whatsapp.post(wa.notification(errors=[wa.error_entry(131000)]))
    await whatsapp.post(b"{not json")
    await whatsapp.post(WRONG_SHAPES["no-from"])
    await whatsapp.settle()
    logged = "\n".join(
        [r.getMessage() for r in caplog.records] + [str(r.__dict__) for r in caplog.records]
    )
    assert caplog.records  # the test reads real log lines
    for secret in (wa.USER_WA_ID, wa.USER_NAME, "Bonjour Aiguillage", wa.APP_SECRET):
        assert secret not in logged
