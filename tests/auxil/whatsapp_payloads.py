"""WhatsApp Cloud API webhook notifications as Meta sends them, and Meta's error entries.

Each builder follows the syntax on Meta's "messages webhook reference" pages, under
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/
(one page per message type, named after the builder's comment); the example values (the WABA,
the business number, Sheena Nelson's) are the ones those pages use. Keys Meta leaves out when
they do not apply (context, referral, identity_key_hash) are left out here too.

    body = raw(notification(messages=[text_message("Bonjour")]))
    headers = {"X-Hub-Signature-256": sign(body, APP_SECRET)}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
USER_WA_ID = "16505551234"
USER_NAME = "Sheena Nelson"
APP_SECRET = "test-app-secret-0123456789abcdef"
ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# Meta's titles and details for the codes the tests use, from
# https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
META_ERRORS: dict[int, tuple[str, str]] = {
    2: ("API Service", "Temporary due to downtime or due to being overloaded."),
    4: ("API Too Many Calls", "The app has reached its API call rate limit."),
    100: ("Invalid parameter", "The request included one or more unsupported parameters."),
    190: ("Access token has expired", "Your access token has expired."),
    80007: ("Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    130429: (
        "Rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number in a short period of time",
    ),
    131000: ("Something went wrong", "Message failed to send due to an unknown error."),
    131016: ("Service unavailable", "A service is temporarily unavailable."),
    131026: (
        "Message undeliverable",
        "Unable to deliver message. Reasons can include: the recipient phone number is not a "
        "WhatsApp phone number; the recipient has blocked the business.",
    ),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    131050: (
        "User has stopped receiving marketing messages",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
        "messages on WhatsApp from your business.",
    ),
    131051: ("Message type unknown", "Message type is currently not supported."),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient phone "
        "number in a short period of time.",
    ),
}

_serial = itertools.count(1)


def new_message_id() -> str:
    """A new ``wamid.`` id, base64 like Meta's."""
    return "wamid." + base64.b64encode(f"aiguillage-test-{next(_serial):08d}".encode()).decode()


def raw(payload: dict[str, Any]) -> bytes:
    """The notification's body; Meta signs these very bytes."""
    return json.dumps(payload).encode()


def sign(body: bytes, app_secret: str = APP_SECRET) -> str:
    """The ``X-Hub-Signature-256`` header Meta sends with this body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def error_entry(code: int, *, href: bool = True) -> dict[str, Any]:
    """One entry of a webhook's ``errors`` array (statuses, value or unsupported message)."""
    title, details = META_ERRORS[code]
    entry: dict[str, Any] = {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
    }
    if href:
        entry["href"] = ERROR_CODES_URL
    return entry


def contact(wa_id: str = USER_WA_ID, name: str = USER_NAME) -> dict[str, Any]:
    """One of the value's ``contacts``: who sent the messages."""
    return {"profile": {"name": name}, "wa_id": wa_id}


def notification(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    """A ``messages`` field notification (reference/messages). ``contacts`` defaults to the
    senders of ``messages`` (system messages come without: reference/messages/system).
    """
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }
    if contacts is None and messages:
        senders = dict.fromkeys(m["from"] for m in messages if m.get("type") != "system")
        contacts = [contact(wa_id) for wa_id in senders] or None
    if contacts is not None:
        value["contacts"] = contacts
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    if errors is not None:
        value["errors"] = errors
    change = {"value": value, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": [change]}]}


def _message(
    kind: str,
    content: Any,
    *,
    wa_id: str,
    message_id: str | None,
    timestamp: int | None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {}
    if context is not None:
        message["context"] = context
    message |= {
        "from": wa_id,
        "id": message_id or new_message_id(),
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": kind,
    }
    if content is not None:
        message[kind] = content
    return message


def text_message(
    body: str,
    *,
    wa_id: str = USER_WA_ID,
    reply_to: str | None = None,
    reply_from: str = DISPLAY_PHONE_NUMBER,
    forwarded: bool = False,
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """reference/messages/text. ``reply_to``: the id of the message it replies to (``context``
    names its sender: our number for a reply to the bot); ``forwarded``: context.forwarded.
    """
    context: dict[str, Any] | None = None
    if reply_to is not None:
        context = {"from": reply_from, "id": reply_to}
    elif forwarded:
        context = {"forwarded": True}
    return _message(
        "text",
        {"body": body},
        wa_id=wa_id,
        message_id=message_id,
        timestamp=timestamp,
        context=context,
    )


def button_reply(button_id: str, title: str, *, wa_id: str = USER_WA_ID) -> dict[str, Any]:
    """reference/messages/interactive: a tap on a reply button of one of our messages."""
    return _tap("button_reply", {"id": button_id, "title": title}, wa_id=wa_id)


def list_reply(
    row_id: str, title: str, description: str | None = None, *, wa_id: str = USER_WA_ID
) -> dict[str, Any]:
    """reference/messages/interactive: a row chosen in one of our list messages."""
    row = {"id": row_id, "title": title}
    if description is not None:
        row["description"] = description
    return _tap("list_reply", row, wa_id=wa_id)


def _tap(reply_type: str, reply: dict[str, str], *, wa_id: str) -> dict[str, Any]:
    """An interactive reply, now: its context names our message (``from`` our number)."""
    interactive = {"type": reply_type, reply_type: reply}
    context = {"from": DISPLAY_PHONE_NUMBER, "id": new_message_id()}
    return _message(
        "interactive", interactive, wa_id=wa_id, message_id=None, timestamp=None, context=context
    )


def contacts_message(
    formatted_name: str = "Barbara J. Johnson",
    phone: str = "+1 (650) 555-1234",
    *,
    wa_id: str = USER_WA_ID,
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """reference/messages/contacts: one shared contact card (Meta omits what was not shared)."""
    first_name, _, last_name = formatted_name.partition(" ")
    card = {
        "name": {
            "formatted_name": formatted_name,
            "first_name": first_name,
            "last_name": last_name,
        },
        "phones": [
            {"phone": phone, "wa_id": "".join(c for c in phone if c.isdigit()), "type": "MOBILE"}
        ],
    }
    return _message("contacts", [card], wa_id=wa_id, message_id=message_id, timestamp=timestamp)


def location_message(
    latitude: float = 37.44216251868683,
    longitude: float = -122.16153582049394,
    *,
    name: str | None = "Philz Coffee",
    address: str | None = "101 Forest Ave, Palo Alto, CA 94301",
    wa_id: str = USER_WA_ID,
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """reference/messages/location (name, address and url only for a chosen place)."""
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if address is not None:
        location["address"] = address
    if name is not None:
        location["name"] = name
    return _message("location", location, wa_id=wa_id, message_id=message_id, timestamp=timestamp)


def _media_message(
    kind: str, mime_type: str, *, caption: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A media message from the person, now: Meta's media object (its id, sha256 and download
    address), the kind's own keys, and the caption if one was typed."""
    media_id = str(1000000000000000 + next(_serial))
    digest = base64.b64encode(hashlib.sha256(media_id.encode()).digest()).decode()
    media = {"mime_type": mime_type, "sha256": digest, "id": media_id}
    media["url"] = f"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid={media_id}"
    media |= extra | ({"caption": caption} if caption is not None else {})
    return _message(kind, media, wa_id=USER_WA_ID, message_id=None, timestamp=None)


def image_message(caption: str | None = None) -> dict[str, Any]:
    """reference/messages/image."""
    return _media_message("image", "image/jpeg", caption=caption)


def audio_message(*, voice: bool = True) -> dict[str, Any]:
    """reference/messages/audio: ``voice`` is a voice note recorded in WhatsApp."""
    return _media_message("audio", "audio/ogg; codecs=opus", voice=voice)


def sticker_message(*, animated: bool = False) -> dict[str, Any]:
    """reference/messages/sticker."""
    return _media_message("sticker", "image/webp", animated=animated)


def document_message(
    filename: str = "attestation.pdf", caption: str | None = None
) -> dict[str, Any]:
    """reference/messages/document."""
    return _media_message("document", "application/pdf", caption=caption, filename=filename)


def reaction_message(
    reacted_to: str,
    emoji: str | None = "\N{THUMBS UP SIGN}",
    *,
    wa_id: str = USER_WA_ID,
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """reference/messages/reaction: ``emoji`` None is a reaction taken back (no emoji key)."""
    reaction = {"message_id": reacted_to} | ({"emoji": emoji} if emoji is not None else {})
    return _message("reaction", reaction, wa_id=wa_id, message_id=message_id, timestamp=timestamp)


def unsupported_message(
    unsupported_type: str = "poll_update",
    *,
    code: int = 131051,
    wa_id: str = USER_WA_ID,
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """reference/messages/unsupported: a message Cloud API cannot pass on, with its errors."""
    message: dict[str, Any] = {
        "from": wa_id,
        "id": message_id or new_message_id(),
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "errors": [error_entry(code, href=False)],  # without href on this page
        "type": "unsupported",
        "unsupported": {"type": unsupported_type},
    }
    return message


def system_message(
    new_wa_id: str,
    *,
    wa_id: str = USER_WA_ID,
    name: str = USER_NAME,
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """reference/messages/system: the person changed their number (no contacts array)."""
    system = {
        "body": f"User {name} changed from {wa_id} to {new_wa_id}",
        "wa_id": new_wa_id,
        "type": "user_changed_number",
    }
    return _message("system", system, wa_id=wa_id, message_id=message_id, timestamp=timestamp)


def status(
    message_id: str,
    state: str,
    *,
    recipient_id: str = USER_WA_ID,
    errors: list[dict[str, Any]] | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """reference/messages/status: what became of a message we sent (sent, delivered, read,
    failed). Pricing comes with sent and delivered; errors only with failed.
    """
    entry: dict[str, Any] = {
        "id": message_id,
        "status": state,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": recipient_id,
    }
    if state in ("sent", "delivered"):
        entry["pricing"] = {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_customer_service",
            "category": "service",
        }
    if errors is not None:
        entry["errors"] = errors
    return entry


def sent_status(message_id: str, **options: Any) -> dict[str, Any]:
    return status(message_id, "sent", **options)


def delivered_status(message_id: str, **options: Any) -> dict[str, Any]:
    return status(message_id, "delivered", **options)


def read_status(message_id: str, **options: Any) -> dict[str, Any]:
    return status(message_id, "read", **options)


def failed_status(message_id: str, code: int = 131047, **options: Any) -> dict[str, Any]:
    """A message that did not reach the person: 131047 (window closed), 131026 (undeliverable)."""
    return status(message_id, "failed", errors=[error_entry(code)], **options)


def graph_error(
    code: int, *, details: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """The Graph API's answer to a refused call (error-codes page, "Error response syntax")."""
    title, default_details = META_ERRORS.get(code, ("Unknown error", "Unknown error."))
    return {
        "error": {
            "message": message if message is not None else f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": details if details is not None else default_details,
            },
            "fbtrace_id": "A" + base64.b64encode(f"trace-{next(_serial)}".encode()).decode()[:22],
        }
    }
