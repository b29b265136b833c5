"""Logs are JSON lines without personal data: uvicorn's access lines lose address and query."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bot.logs import configure_logging
from tests.auxil.servers import serve

TOKEN = "s3cr3t-session-token"


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """The smallest ASGI application, so only uvicorn's own logging is under test."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What the logging configured as serve does it writes (to stderr, here to a buffer)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO")
    buffer = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    yield buffer
    root.handlers[:], level = saved
    root.setLevel(level)


def test_uvicorn_access_lines_keep_method_path_and_status_only(written: io.StringIO) -> None:
    with serve(hello, access_log=True) as url:
        assert httpx.get(f"{url}/api/chat/messages?session={TOKEN}").status_code == 204
    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    [access] = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access["event"] == "request"
    assert (access["method"], access["path"], access["status"]) == (
        "GET",
        "/api/chat/messages",
        204,
    )
    assert TOKEN not in json.dumps(access)
    assert "127.0.0.1" not in json.dumps(access)


def test_an_access_record_of_unknown_shape_is_dropped(written: io.StringIO) -> None:
    logging.getLogger("uvicorn.access").info("%s GET /?session=%s", "198.51.100.4", TOKEN)
    assert TOKEN not in written.getvalue()


def test_an_error_is_logged_with_where_it_came_from_but_not_its_message(
    written: io.StringIO,
) -> None:
    # A driver's message can quote the value that broke it: here a phone number.
    phone = "+33" + "612345678"
    try:
        try:
            raise KeyError(phone)
        except KeyError as error:
            raise ValueError(f"duplicate phone {phone}") from error
    except ValueError:
        logging.getLogger("bot.test").exception("update failed")
    entry = json.loads(written.getvalue().splitlines()[-1])
    assert entry["event"] == "update failed"
    assert "+33612345678" not in written.getvalue()
    assert "builtins.KeyError (message left out of the logs)" in entry["exception"]
    assert "builtins.ValueError (message left out of the logs)" in entry["exception"]
    assert "test_an_error_is_logged_with_where_it_came_from" in entry["exception"]
