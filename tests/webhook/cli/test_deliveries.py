"""``aiguillage deliveries``: what was sent to the endpoints, what waits, what failed."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

import pytest

from bot.clock import utcnow
from bot.leads.handoff import LeadHandoff
from bot.settings import Settings
from bot.storage.database import open_database
from bot.storage.values import as_datetime
from tests.auxil.outside_loop import deliver_once, rows
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.servers import unused_port
from tests.auxil.web_chat import become_a_lead
from webhook.cli import main

PROFILE = SAMIR_IN_PANTIN
UNREACHABLE = "ConnectError: could not reach receiver"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", settings.database_url)


def add_endpoint(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> str:
    assert main(["endpoints", "add", url, *argv]) == 0
    found = re.search(r"^endpoint (\w+)$", capsys.readouterr().out, re.MULTILINE)
    assert found is not None
    return found[1]


def unreachable_endpoint(capsys: pytest.CaptureFixture[str]) -> str:
    """An endpoint nobody listens at: every try fails."""
    return add_endpoint(capsys, f"http://127.0.0.1:{unused_port()}/hook")


def held_endpoint(capsys: pytest.CaptureFixture[str]) -> str:
    """A disabled endpoint: its deliveries wait, untried."""
    endpoint_id = add_endpoint(capsys, "https://crm.example.org/hook")
    assert main(["endpoints", "disable", endpoint_id]) == 0
    capsys.readouterr()
    return endpoint_id


def finish_a_conversation(settings: Settings) -> None:
    """Someone goes through the web chat to the end: a lead, queued for the endpoints."""

    asyncio.run(become_a_lead(settings, PROFILE))


def erase_the_lead(settings: Settings, lead_id: str) -> None:
    """What the person's erasure request does to their lead (the conversation's erasure)."""

    async def erase() -> None:
        database = open_database(settings.database_url)
        try:
            async with database.transaction() as tx:
                lead = await tx.fetch_one(
                    "SELECT conversation_id FROM leads WHERE id = :id", {"id": lead_id}
                )
                assert lead is not None
                assert await LeadHandoff().erase(tx, lead["conversation_id"], now=utcnow())
        finally:
            await database.close()

    asyncio.run(erase())


def delivery(settings: Settings, endpoint_id: str) -> dict[str, Any]:
    [row] = rows(
        settings,
        "SELECT * FROM webhook_deliveries WHERE endpoint_id = :id AND event_type = 'lead.created'",
        id=endpoint_id,
    )
    return row


def listed(capsys: pytest.CaptureFixture[str], *argv: str) -> list[list[str]]:
    """``deliveries list``: the columns of each line."""
    assert main(["deliveries", "list", *argv]) == 0
    out = capsys.readouterr().out
    return [line.split("\t") for line in out.splitlines() if "\t" in line]


def is_pending_again(row: dict[str, Any], replayed_after: datetime) -> bool:
    next_attempt = as_datetime(row["next_attempt_at"])
    return (
        row["failed_at"] is None
        and row["delivered_at"] is None
        and row["attempts"] == 0
        and next_attempt is not None
        and replayed_after <= next_attempt <= utcnow()
    )


def test_list_shows_the_state_tries_and_last_error_of_each_delivery(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert listed(capsys) == []
    down = unreachable_endpoint(capsys)
    held = held_endpoint(capsys)
    finish_a_conversation(settings)
    assert deliver_once(settings) == 1
    [lead] = rows(settings, "SELECT id FROM leads")
    failed, waiting = delivery(settings, down), delivery(settings, held)

    shown = {columns[0]: columns for columns in listed(capsys)}
    assert set(shown) == {failed["id"], waiting["id"]}
    assert shown[failed["id"]] == [
        failed["id"],
        "lead.created",
        "failed",
        "1 tries",
        "",
        UNREACHABLE,
        f"endpoint {down}",
        f"lead {lead['id']}",
        "",
    ]
    assert shown[waiting["id"]][1:4] == ["lead.created", "pending", "0 tries"]
    assert re.fullmatch(r"next try \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", shown[waiting["id"]][4])
    assert shown[waiting["id"]][5:] == ["", f"endpoint {held}", f"lead {lead['id']}", ""]

    assert [c[0] for c in listed(capsys, "--state", "failed")] == [failed["id"]]
    assert [c[0] for c in listed(capsys, "--state", "pending")] == [waiting["id"]]
    assert listed(capsys, "--state", "delivered") == []
    assert [c[0] for c in listed(capsys, "--endpoint", held)] == [waiting["id"]]
    assert len(listed(capsys, "--lead", lead["id"])) == 2
    assert listed(capsys, "--lead", "nobody") == []
    assert len(listed(capsys, "--limit", "1")) == 1
    assert main(["deliveries", "list", "--lead", "nobody"]) == 0
    assert capsys.readouterr().out == "no delivery matches\n"


@pytest.mark.parametrize("limit", ["0", "10001", "-3"])
def test_a_limit_out_of_range_is_refused(limit: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deliveries", "list", "--limit", limit]) == 2
    assert capsys.readouterr().err == "aiguillage deliveries: --limit: expected 1-10000\n"


def test_an_unknown_state_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["deliveries", "list", "--state", "lost"])
    assert stopped.value.code == 2
    assert "invalid choice: 'lost'" in capsys.readouterr().err


def test_replaying_a_failed_delivery_makes_it_pending_again(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    down = unreachable_endpoint(capsys)
    finish_a_conversation(settings)
    assert deliver_once(settings) == 1
    failed = delivery(settings, down)
    assert failed["failed_at"] is not None

    before = utcnow()
    assert main(["deliveries", "replay", failed["id"]]) == 0
    assert capsys.readouterr().out == "1 deliveries will be sent again by the worker\n"
    replayed = delivery(settings, down)
    assert is_pending_again(replayed, before)
    assert replayed["id"] == failed["id"]  # the same webhook-id: receivers de-duplicate on it
    assert replayed["body"] == failed["body"]
    [columns] = listed(capsys)
    assert columns[2:4] == ["pending", "0 tries"]
    assert columns[5] == UNREACHABLE  # the last answer stays, until the next try

    assert deliver_once(settings) == 1  # the worker takes it again
    assert listed(capsys, "--state", "failed")[0][3] == "1 tries"


def test_replay_failed_sends_every_failed_delivery_again_or_one_endpoints(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = unreachable_endpoint(capsys), unreachable_endpoint(capsys)
    held = held_endpoint(capsys)
    finish_a_conversation(settings)
    assert deliver_once(settings) == 2

    before = utcnow()
    assert main(["deliveries", "replay", "--failed", "--endpoint", first]) == 0
    assert capsys.readouterr().out == "1 deliveries will be sent again by the worker\n"
    assert is_pending_again(delivery(settings, first), before)
    assert delivery(settings, second)["failed_at"] is not None

    assert main(["deliveries", "replay", "--failed"]) == 0
    assert capsys.readouterr().out == "1 deliveries will be sent again by the worker\n"
    assert is_pending_again(delivery(settings, second), before)
    assert delivery(settings, held)["attempts"] == 0

    assert main(["deliveries", "replay", "--failed"]) == 0
    assert capsys.readouterr().out == "0 deliveries will be sent again by the worker\n"


def test_replaying_an_unknown_delivery_changes_nothing(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    down = unreachable_endpoint(capsys)
    finish_a_conversation(settings)
    assert deliver_once(settings) == 1
    failed = delivery(settings, down)

    assert main(["deliveries", "replay", failed["id"], "msg_nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "aiguillage deliveries: no delivery 'msg_nope' (see: aiguillage deliveries list)\n"
    )
    assert delivery(settings, down)["failed_at"] is not None  # all or nothing


def test_the_delivery_of_an_erased_lead_is_listed_but_not_replayed(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    down = unreachable_endpoint(capsys)
    finish_a_conversation(settings)
    assert deliver_once(settings) == 1
    [lead] = rows(settings, "SELECT id FROM leads")
    erase_the_lead(settings, lead["id"])
    failed = delivery(settings, down)
    assert failed["body"] is None

    erased = [c for c in listed(capsys) if c[0] == failed["id"]]
    assert [c[-1] for c in erased] == ["lead erased"]
    assert main(["deliveries", "replay", failed["id"]]) == 2
    assert capsys.readouterr().err == (
        f"aiguillage deliveries: delivery {failed['id']!r}: its lead was erased, nothing to send\n"
    )
    assert main(["deliveries", "replay", "--failed"]) == 0
    assert capsys.readouterr().out == "0 deliveries will be sent again by the worker\n"


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        ([], "replay: give delivery ids, or --failed"),
        (["--endpoint", "abc"], "replay: give delivery ids, or --failed"),
        (["msg_1", "--endpoint", "abc"], "--endpoint: only with --failed"),
    ],
)
def test_replay_needs_ids_or_failed(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deliveries", "replay", *argv]) == 2
    assert capsys.readouterr().err == f"aiguillage deliveries: {problem}\n"
