"""The access log keeps method, path, status and duration: no session token, no address."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from bot.logs import JsonFormatter

CLIENT = ("203.0.113.7", 50123)
TOKEN = "s3cr3t-session-token"


@pytest.mark.parametrize(
    ("target", "path", "status"),
    [(f"/?session={TOKEN}", "/", 200), (f"/nowhere?token={TOKEN}#{TOKEN}", "/nowhere", 404)],
)
async def test_each_request_is_logged_without_query_string_or_address(
    app: FastAPI, caplog: pytest.LogCaptureFixture, target: str, path: str, status: int
) -> None:
    transport = httpx.ASGITransport(app=app, client=CLIENT)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        with caplog.at_level(logging.INFO, logger="webhook.access_log"):
            assert (await http.get(target)).status_code == status
    [record] = [r for r in caplog.records if r.name == "webhook.access_log"]
    line = JsonFormatter().format(record)
    assert TOKEN not in line
    assert CLIENT[0] not in line
    fields = record.__dict__
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", path, status)
    assert isinstance(fields["duration_ms"], float)
    assert fields["duration_ms"] >= 0


async def test_nothing_is_added_to_a_request_when_info_is_off(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(app=app, client=CLIENT)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        with caplog.at_level(logging.WARNING, logger="webhook.access_log"):
            await http.get("/")
    assert not [r for r in caplog.records if r.name == "webhook.access_log"]
