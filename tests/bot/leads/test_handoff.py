"""From a finished conversation to queued lead events: who gets what, and erasure."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI

from bot.clock import utcnow
from bot.leads.payload import SCHEMA_PATH
from bot.leads.store import read_leads
from bot.settings import Settings
from bot.storage.database import Database
from tests.auxil.funnel_data import converse
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from tests.auxil.web_chat import SESSION, drive, lead_of_session, send
from tests.auxil.webhook_receiver import all_delivered, register_endpoint
from webhook.app import create_app

PROFILE = SAMIR_IN_PANTIN
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def app(quiet_app: FastAPI) -> FastAPI:
    """The service without its delivery worker: these tests look at what is queued."""
    return quiet_app


async def add_endpoint(
    app: FastAPI, *, site: str | None = None, referrer: str | None = None
) -> str:
    return await register_endpoint(app.state.database, site=site, referrer=referrer)


async def rows(app: FastAPI, sql: str, **params: Any) -> list[dict[str, Any]]:
    database: Database = app.state.database
    async with database.transaction() as tx:
        return await tx.fetch(sql, params)


async def events_for(app: FastAPI, endpoint_id: str) -> list[dict[str, Any]]:
    found = await rows(
        app,
        "SELECT body FROM webhook_deliveries WHERE endpoint_id = :id ORDER BY created_at, id",
        id=endpoint_id,
    )
    return [json.loads(row["body"]) for row in found if row["body"] is not None]


async def test_a_confirmed_summary_becomes_one_lead_queued_for_the_endpoints_that_want_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    everything = await add_endpoint(app)
    pantin = await add_endpoint(app, site="pantin")
    poissy = await add_endpoint(app, site="poissy")
    mission_locale = await add_endpoint(app, referrer="ML_POISSY")
    other_referrer = await add_endpoint(app, referrer="ML_PANTIN")

    await drive(client, PROFILE)

    [lead] = await rows(app, "SELECT * FROM leads")
    assert lead["status"] == "new"
    assert lead["referrer_code"] == "ML_POISSY"
    assert lead["site"] == "pantin"
    assert lead["phone"] == "+33612345678"
    [full] = await events_for(app, everything)
    assert await events_for(app, pantin) == [full]
    assert await events_for(app, poissy) == []
    assert await events_for(app, other_referrer) == []
    jsonschema.validate(full, SCHEMA)
    assert full["type"] == "lead.created"
    data = full["data"]
    assert data["id"] == lead["id"]
    assert data["contact"] == {
        "first_name": "Samir",
        "preference": "call",
        "phone": "+33612345678",
        "email": None,
    }
    assert data["site"] == {"id": "pantin", "name": "Pantin"}
    assert data["profile"]["postal_code"] == "93500"
    fits = {p["id"]: p["fit"] for p in data["orientation"]["programmes"]}
    assert fits["ecole_du_web"] == "yes"
    assert all(p["reasons"] for p in data["orientation"]["programmes"])
    assert [c["status"] for c in data["status_history"]] == ["new"]
    assert data["status_history"][0]["changed_by"] == "assistant"

    # The Mission locale follows its own people: where they stand, not what they said.
    [follow_up] = await events_for(app, mission_locale)
    jsonschema.validate(follow_up, SCHEMA)
    assert set(follow_up["data"]) == {
        "id", "created_at", "updated_at", "referrer_code", "status", "status_history", "site",
        "programmes",
    }  # fmt: skip
    shown = json.dumps(follow_up)
    assert "Samir" not in shown
    assert "612345678" not in shown
    assert {"id": "ecole_du_web", "fit": "yes"} in follow_up["data"]["programmes"]


async def test_a_whatsapp_conversation_sends_a_lead_event_naming_its_channel(
    app: FastAPI,
) -> None:
    everything = await add_endpoint(app)
    mission_locale = await add_endpoint(app, referrer="ML_POISSY")

    # A person who came through the Mission locale's wa.me link, its code in their first message.
    await converse(app.state.conversations, "33612345678", channel="whatsapp", referrer="ML_POISSY")

    [full] = await events_for(app, everything)
    jsonschema.validate(full, SCHEMA)
    assert full["type"] == "lead.created"
    assert full["data"]["channel"] == "whatsapp"
    assert full["data"]["referrer_code"] == "ML_POISSY"
    [follow_up] = await events_for(app, mission_locale)
    jsonschema.validate(follow_up, SCHEMA)
    assert "channel" not in follow_up["data"]
    # The schema lists its channels: one it does not know is not a lead event.
    full["data"]["channel"] = "sms"
    with pytest.raises(jsonschema.ValidationError, match="'sms' is not one of"):
        jsonschema.validate(full, SCHEMA)


async def test_no_contact_wanted_means_no_lead(app: FastAPI, client: httpx.AsyncClient) -> None:
    await add_endpoint(app)
    reply = await send(client, command="start")
    while not reply["done"]:
        question = reply["messages"][-1]["question"]
        if question["field"] == "contact_consent":
            reply = await send(client, choice="no")
        else:
            reply = await send(client, **answer_for(question, PROFILE))
    assert await rows(app, "SELECT id FROM leads") == []
    assert await rows(app, "SELECT id FROM webhook_deliveries") == []


async def test_asking_again_after_the_end_updates_the_lead_and_reopens_an_unreachable_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    endpoint = await add_endpoint(app)
    await drive(client, PROFILE)
    [lead] = await rows(app, "SELECT id FROM leads")
    await all_delivered(app.state.database)
    async with app.state.database.transaction() as tx:
        await app.state.handoff.change_status(
            tx, lead["id"], "unreachable", changed_by="counsellor@poles.example", now=utcnow()
        )
    await all_delivered(app.state.database)

    reply = await send(client, command="human")
    while not reply["done"]:  # what is known is not asked again: straight to the summary
        assert reply["messages"][-1]["question"]["field"] == "confirm"
        reply = await send(client, choice="confirm")

    created, unreachable, again = await events_for(app, endpoint)
    assert [created["type"], unreachable["type"], again["type"]] == [
        "lead.created", "lead.updated", "lead.updated",
    ]  # fmt: skip
    assert unreachable["data"]["status"] == "unreachable"
    assert again["data"]["status"] == "new"
    assert again["data"]["human_requested"] is True
    history = [
        (c["previous"], c["status"], c["changed_by"]) for c in again["data"]["status_history"]
    ]
    assert history == [
        (None, "new", "assistant"),
        ("new", "unreachable", "counsellor@poles.example"),
        ("unreachable", "new", "assistant"),
    ]
    assert len(await rows(app, "SELECT id FROM leads")) == 1


async def test_erasure_tells_the_endpoints_that_had_the_lead_and_keeps_no_copy(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    reached = await add_endpoint(app)
    not_yet = await add_endpoint(app)
    await drive(client, PROFILE)
    [lead] = await rows(app, "SELECT id FROM leads")
    # The first endpoint was sent the lead (the worker is not running in this test).
    async with app.state.database.transaction() as tx:
        await tx.execute(
            "UPDATE webhook_deliveries SET attempts = 1, delivered_at = :now, last_status = 204"
            " WHERE endpoint_id = :id",
            {"now": utcnow(), "id": reached},
        )

    await send(client, text="/supprimer")
    reply = await send(client, choice="erase_yes")
    assert "effacé" in reply["messages"][0]["text"]

    assert await rows(app, "SELECT id FROM leads") == []
    assert await rows(app, "SELECT id FROM lead_status_changes") == []
    assert await events_for(app, not_yet) == []  # never sent: dropped, nothing to retract
    trace = await rows(
        app,
        "SELECT event_type, body FROM webhook_deliveries WHERE endpoint_id = :id"
        " ORDER BY created_at",
        id=reached,
    )
    assert [(t["event_type"], t["body"] is None) for t in trace] == [
        ("lead.created", True),
        ("lead.deleted", False),
    ]
    [deleted] = await events_for(app, reached)
    jsonschema.validate(deleted, SCHEMA)
    assert deleted["data"]["id"] == lead["id"]
    assert set(deleted["data"]) == {"id", "deleted_at"}


@pytest.fixture
async def app_with_group(settings: Settings) -> Any:
    grouped = settings.model_copy(
        update={"counsellor_chat_id": -1001234, "public_url": "https://aiguillage.example"}
    )
    application = create_app(grouped, background=False)
    async with application.router.lifespan_context(application):
        yield application


async def test_the_counsellors_group_gets_a_short_notice_without_sensitive_details(
    app_with_group: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=app_with_group)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await drive(http, PROFILE)
    [lead] = await rows(app_with_group, "SELECT id FROM leads")
    [notice] = await rows(
        app_with_group, "SELECT payload FROM outbox_messages WHERE chat_id = -1001234"
    )
    payload = notice["payload"]
    body = (json.loads(payload) if isinstance(payload, str) else payload)["text"]
    for expected in ("Samir", "Pantin", "L'École du Web"):
        assert expected in body
    assert f"https://aiguillage.example/admin/leads/{lead['id']}" in body
    for sensitive in ("612345678", "93500", "qpv"):
        assert sensitive not in body


async def test_my_data_shows_where_the_request_stands(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await drive(client, PROFILE)
    reply = await send(client, text="/mes_donnees")
    texts = " ".join(m["text"] for m in reply["messages"])
    assert "Ta demande de contact du" in texts
    assert "un conseiller va te contacter" in texts


def test_the_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SESSION


def test_the_readme_shows_the_schema_as_it_is() -> None:
    readme = (SCHEMA_PATH.parents[2] / "README.md").read_text(encoding="utf-8")
    assert SCHEMA_PATH.read_text(encoding="utf-8").strip() in readme


async def test_many_leads_read_at_once_keep_their_order_and_own_histories(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await drive(client, PROFILE, "session-first-person")
    await drive(client, PROFILE, "session-second-person")
    first = await lead_of_session(app.state.database, "session-first-person")
    second = await lead_of_session(app.state.database, "session-second-person")
    async with app.state.database.transaction() as tx:
        await app.state.handoff.change_status(tx, second, "contacted", changed_by="c", now=utcnow())
        leads = await read_leads(tx, [second, first, "0" * 32])
    assert [lead.id for lead in leads] == [second, first]  # as asked; an unknown id is left out
    assert [c.status for c in leads[0].history] == ["new", "contacted"]
    assert [c.status for c in leads[1].history] == ["new"]
