"""``aiguillage endpoints``: register the receivers of lead webhooks, and look after them."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
from standardwebhooks.webhooks import Webhook

from bot.settings import Settings
from bot.storage.database import open_database
from tests.auxil.outside_loop import deliver_once
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.servers import unused_port
from tests.auxil.web_chat import become_a_lead
from webhook.cli import main
from webhook.handoff import signing

PROFILE = SAMIR_IN_PANTIN
ADDED = re.compile(r"^endpoint (\w+)$", re.MULTILINE)
SECRET = re.compile(r"(whsec_\S+)")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", settings.database_url)


def add(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:
    """``endpoints add``: the new endpoint's id and its signing secret."""
    assert main(["endpoints", "add", *argv]) == 0
    out = capsys.readouterr().out
    found, secret = ADDED.search(out), SECRET.search(out)
    assert found is not None, out
    assert secret is not None, out
    return found[1], secret[1]


def listed(capsys: pytest.CaptureFixture[str]) -> dict[str, list[str]]:
    """``endpoints list``: the columns after the id of each endpoint, by id."""
    assert main(["endpoints", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    return {line.split("\t")[0]: line.split("\t")[1:] for line in lines if "\t" in line}


def verifies(secret: str) -> bool:
    """Whether a receiver holding ``secret`` accepts what is signed with it (standardwebhooks)."""
    body = json.dumps({"type": "lead.created", "data": {}})
    headers = signing.headers([secret], "msg_1", int(time.time()), body)
    return bool(Webhook(secret).verify(body, headers) == {"type": "lead.created", "data": {}})


def finish_a_conversation(settings: Settings) -> None:
    """Someone goes through the web chat to the end: a lead, queued for matching endpoints."""

    asyncio.run(become_a_lead(settings, PROFILE))


def delivery_count(settings: Settings, endpoint_id: str) -> int:
    async def count() -> int:
        database = open_database(settings.database_url)
        try:
            async with database.transaction() as tx:
                rows = await tx.fetch(
                    "SELECT id FROM webhook_deliveries WHERE endpoint_id = :id",
                    {"id": endpoint_id},
                )
        finally:
            await database.close()
        return len(rows)

    return asyncio.run(count())


def test_add_prints_an_id_and_a_secret_that_receivers_libraries_accept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint_id, secret = add(capsys, "https://crm.example.org/hook", "--name", "CRM Pantin")
    assert secret.startswith("whsec_")
    assert verifies(secret)
    assert listed(capsys) == {
        endpoint_id: [
            "CRM Pantin",
            "https://crm.example.org/hook",
            "all leads",
            "enabled",
            "0 waiting, 0 failed",
        ]
    }


def test_list_shows_each_endpoints_scope_and_names_it_after_its_host_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["endpoints", "list"]) == 0
    assert "no endpoint yet" in capsys.readouterr().out
    everything, _ = add(capsys, "https://crm.example.org/hook")
    pantin, _ = add(capsys, "https://pantin.example.org/in", "--site", "pantin")
    poissy, _ = add(capsys, "http://ml.example.org/", "--referrer", "ML_POISSY", "--name", "ML")
    shown = listed(capsys)
    assert [columns[:3] for columns in shown.values()] == [
        ["crm.example.org", "https://crm.example.org/hook", "all leads"],
        ["pantin.example.org", "https://pantin.example.org/in", "site pantin"],
        ["ML", "http://ml.example.org/", "referrer ML_POISSY (follow-up view)"],
    ]
    assert list(shown) == [everything, pantin, poissy]


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["ftp://crm.example.org/hook"], "URL 'ftp://crm.example.org/hook': expected an http"),
        (["crm.example.org/hook"], "expected an http:// or https:// address"),
        (["https://crm.example.org/a b"], "expected an http:// or https:// address"),
        (["https://crm.example.org", "--name", "  "], "--name: expected 1-200 characters"),
        (["https://crm.example.org", "--site", "lyon"], "--site 'lyon': expected one of"),
        (["https://crm.example.org", "--referrer", "bad code!"], "--referrer 'bad code!'"),
        (
            ["https://crm.example.org", "--site", "pantin", "--referrer", "ML_POISSY"],
            "--site and --referrer: choose one filter",
        ),
    ],
)
def test_wrong_arguments_are_refused_with_one_line(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["endpoints", "add", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("aiguillage endpoints: ")
    assert problem in line
    assert main(["endpoints", "list"]) == 0
    assert "no endpoint yet" in capsys.readouterr().out


def test_a_rotated_secret_replaces_the_old_one_which_signs_for_a_day_more(
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint_id, old = add(capsys, "https://crm.example.org/hook")
    assert main(["endpoints", "rotate-secret", endpoint_id]) == 0
    out = capsys.readouterr().out
    found = SECRET.search(out)
    assert found is not None, out
    new = found[1]
    assert new != old
    assert verifies(new)
    until = re.search(r"old secret signs too until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", out)
    assert until is not None, out
    [columns] = listed(capsys).values()
    assert f"enabled, old secret also signs until {until[1]} UTC" in columns


def test_disabled_endpoints_hold_their_deliveries_until_enabled_and_failures_are_counted(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable, _ = add(capsys, f"http://127.0.0.1:{unused_port()}/hook", "--name", "Down")
    held, _ = add(capsys, "https://crm.example.org/hook", "--site", "pantin")
    elsewhere, _ = add(capsys, "https://poissy.example.org/hook", "--site", "poissy")
    assert main(["endpoints", "disable", held]) == 0
    assert "disabled" in capsys.readouterr().out

    finish_a_conversation(settings)  # a lead for Pantin
    assert deliver_once(settings) == 1  # the disabled endpoint's delivery is not tried

    shown = listed(capsys)
    assert shown[unreachable][-2:] == ["enabled", "0 waiting, 1 failed"]
    assert shown[held][-2:] == ["disabled (disabled by an operator)", "1 waiting, 0 failed"]
    assert shown[elsewhere][-2:] == ["enabled", "0 waiting, 0 failed"]

    assert main(["endpoints", "enable", held]) == 0
    assert "enabled" in capsys.readouterr().out
    assert listed(capsys)[held][-2:] == ["enabled", "1 waiting, 0 failed"]


def test_remove_asks_for_yes_while_deliveries_wait(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting, _ = add(capsys, "https://crm.example.org/hook")
    idle, _ = add(capsys, "https://poissy.example.org/hook", "--site", "poissy")
    finish_a_conversation(settings)

    assert main(["endpoints", "remove", waiting]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        f"aiguillage endpoints: endpoint {waiting} still has 1 deliveries waiting:"
        " add --yes to drop them with it, or disable it instead"
    )
    assert set(listed(capsys)) == {waiting, idle}

    assert main(["endpoints", "remove", waiting, "--yes"]) == 0
    assert capsys.readouterr().out == f"endpoint {waiting} removed with 1 waiting deliveries\n"
    assert delivery_count(settings, waiting) == 0
    assert main(["endpoints", "remove", idle]) == 0
    assert capsys.readouterr().out == f"endpoint {idle} removed\n"
    assert main(["endpoints", "list"]) == 0
    assert "no endpoint yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["rotate-secret", "nope"],
        ["disable", "nope"],
        ["enable", "nope"],
        ["remove", "nope"],
        ["remove", "nope", "--yes"],
    ],
)
def test_unknown_endpoints_are_named(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["endpoints", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "aiguillage endpoints: no endpoint 'nope' (see: aiguillage endpoints list)\n"
    )
