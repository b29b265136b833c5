"""``aiguillage leads``: the people to contact, and the follow-up of each."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from bot.settings import Settings
from tests.auxil.outside_loop import rows
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.web_chat import become_a_lead
from webhook.cli import main

PROFILE = SAMIR_IN_PANTIN
PUBLIC_URL = "https://aiguillage.example.org"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", database_url)
    monkeypatch.setenv("AIGUILLAGE_PUBLIC_URL", PUBLIC_URL)


@pytest.fixture
def endpoint(capsys: pytest.CaptureFixture[str]) -> str:
    """An endpoint registered before the lead: it is sent every event about it."""
    assert main(["endpoints", "add", "https://crm.example.org/hook"]) == 0
    found = re.search(r"^endpoint (\w+)$", capsys.readouterr().out, re.MULTILINE)
    assert found is not None
    return found[1]


@pytest.fixture
def lead_id(settings: Settings, endpoint: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Someone went through the web chat to the end, sent by ML_POISSY: their lead."""
    assert settings.public_url == PUBLIC_URL
    assert main(["referrers", "add", "ML_POISSY", "--name", "Mission locale de Poissy"]) == 0
    capsys.readouterr()

    asyncio.run(become_a_lead(settings, PROFILE))
    [lead] = rows(settings, "SELECT id FROM leads")
    found: str = lead["id"]
    return found


def events(settings: Settings, lead_id: str) -> list[dict[str, Any]]:
    """The events queued about a lead, oldest first."""
    found = rows(
        settings,
        "SELECT body FROM webhook_deliveries WHERE lead_id = :id ORDER BY created_at, id",
        id=lead_id,
    )
    return [json.loads(row["body"]) for row in found]


def test_list_shows_the_newest_leads_with_their_status_site_and_programmes(
    lead_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["leads", "list"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    shown_id, created, status, site, programmes, referrer, human = line.split("\t")
    assert shown_id == lead_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", created)
    assert (status, site, referrer, human) == ("new", "pantin", "ML_POISSY", "")
    assert "ecole_du_web" in programmes.split(",")


def test_list_says_when_there_is_no_lead_and_refuses_a_wrong_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["leads", "list"]) == 0
    assert capsys.readouterr().out == "no lead yet\n"
    assert main(["leads", "list", "--limit", "0"]) == 2
    assert capsys.readouterr().err == "aiguillage leads: --limit: expected 1-10000\n"


def test_show_prints_the_lead_as_its_webhooks_carry_it(
    settings: Settings, lead_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["leads", "show", lead_id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == lead_id
    assert shown["status"] == "new"
    assert shown["referrer_code"] == "ML_POISSY"
    assert shown["contact"] == {
        "first_name": "Samir",
        "preference": "call",
        "phone": "+33612345678",
        "email": None,
    }
    assert shown["site"] == {"id": "pantin", "name": "Pantin"}
    assert shown["profile"]["postal_code"] == "93500"
    fits = {p["id"]: p["fit"] for p in shown["orientation"]["programmes"]}
    assert fits["ecole_du_web"] == "yes"
    assert shown["admin_url"] == f"{PUBLIC_URL}/admin/leads/{lead_id}"
    [created] = events(settings, lead_id)
    assert created["type"] == "lead.created"
    assert shown == created["data"]


def test_a_status_change_is_recorded_sent_to_the_endpoints_and_not_repeated(
    settings: Settings, lead_id: str, endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["leads", "status", lead_id, "contacted", "--by", " counsellor@poles.example "]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"lead {lead_id}: now contacted\n"
    [status] = rows(settings, "SELECT status FROM leads WHERE id = :id", id=lead_id)
    assert status == {"status": "contacted"}
    created, updated = events(settings, lead_id)
    assert updated["type"] == "lead.updated"
    assert updated["data"]["status"] == "contacted"
    history = [
        (c["previous"], c["status"], c["changed_by"]) for c in updated["data"]["status_history"]
    ]
    assert history == [(None, "new", "assistant"), ("new", "contacted", "counsellor@poles.example")]
    assert main(["deliveries", "list", "--lead", lead_id, "--state", "pending"]) == 0
    listed = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [(c[1], c[6]) for c in listed] == [
        ("lead.updated", f"endpoint {endpoint}"),
        ("lead.created", f"endpoint {endpoint}"),
    ]

    assert main(argv) == 0
    assert capsys.readouterr().out == f"lead {lead_id}: already contacted\n"
    assert len(events(settings, lead_id)) == 2
    assert main(["leads", "show", lead_id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [c["status"] for c in shown["status_history"]] == ["new", "contacted"]
    assert main(["leads", "list"]) == 0
    assert capsys.readouterr().out.split("\t")[2] == "contacted"


@pytest.mark.parametrize(
    "argv",
    [["show", "nope"], ["status", "nope", "contacted", "--by", "counsellor@poles.example"]],
)
def test_an_unknown_lead_is_named(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leads", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines()[-1] == "aiguillage leads: no lead 'nope'"


@pytest.mark.parametrize("by", ["", "   ", "x" * 255])
def test_who_changes_the_status_must_be_said(
    by: str, lead_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["leads", "status", lead_id, "contacted", "--by", by]) == 2
    assert capsys.readouterr().err == "aiguillage leads: --by: expected 1-254 characters\n"


def test_an_unknown_status_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["leads", "status", "abc", "called", "--by", "counsellor@poles.example"])
    assert stopped.value.code == 2
    assert "invalid choice: 'called'" in capsys.readouterr().err


def test_a_held_lead_is_listed_as_such_and_released_once(
    settings: Settings, lead_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # As the address limit leaves it: kept, nothing sent anywhere.
    rows(settings, "DELETE FROM webhook_deliveries WHERE lead_id = :id", id=lead_id)
    rows(settings, "UPDATE leads SET held_at = created_at WHERE id = :id", id=lead_id)
    assert main(["leads", "list"]) == 0
    assert "held: see leads release" in capsys.readouterr().out

    assert main(["leads", "release", lead_id]) == 0
    assert capsys.readouterr().out == f"lead {lead_id}: released\n"
    [created] = events(settings, lead_id)
    assert created["type"] == "lead.created"
    assert main(["leads", "release", lead_id]) == 0
    assert capsys.readouterr().out == f"lead {lead_id}: not held\n"
    assert len(events(settings, lead_id)) == 1
    assert main(["leads", "release", "0" * 32]) != 0
