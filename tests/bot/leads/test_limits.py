"""Leads a stranger cannot flood: held beyond an address's limit, updates coalesced, a digest
for the counsellors' group, and invented referral codes kept to one bucket."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from bot.clock import utcnow
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.leads.handoff import LeadHandoff
from bot.leads.notices import NoticeGate
from bot.limits import Rate, RateLimiter
from bot.partners.referrers import referrer_stats
from bot.storage.database import Database
from bot.storage.values import as_datetime
from flows.messages import Input
from tests.auxil.clock import ManualClock, Ticks
from tests.auxil.service_chat import ask_again, finish_as_lead
from tests.auxil.webhook_receiver import all_delivered, register_endpoint, register_referrer

GROUP = -1009876
ADDRESS = "203.0.113.7"


async def service_with(database: Database, handoff: LeadHandoff) -> ConversationService:
    service = ConversationService(database, FlowRegistry(), handoff=handoff)
    await service.prepare()
    return service


async def rows(database: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with database.transaction() as tx:
        return await tx.fetch(sql, params)


async def group_messages(database: Database) -> list[dict[str, Any]]:
    found = await rows(
        database,
        "SELECT payload, not_before FROM outbox_messages WHERE chat_id = :chat ORDER BY id",
        chat=GROUP,
    )
    for row in found:
        if isinstance(row["payload"], str):
            row["payload"] = json.loads(row["payload"])
    return found


async def test_beyond_an_address_lead_limit_leads_are_kept_but_held_until_released(
    database: Database,
) -> None:
    endpoint = await register_endpoint(database)
    handoff = LeadHandoff(
        counsellor_chat_id=GROUP,
        lead_limit=RateLimiter(Rate(2, 3600.0), clock=Ticks()),
    )
    service = await service_with(database, handoff)
    for person in ("person-1", "person-2", "person-3"):
        await finish_as_lead(service, person, source=ADDRESS)
    await finish_as_lead(service, "elsewhere", source="198.51.100.4")

    leads = await rows(database, "SELECT id, held_at FROM leads ORDER BY created_at, id")
    assert len(leads) == 4  # never a lost lead
    held = [lead["id"] for lead in leads if lead["held_at"] is not None]
    assert len(held) == 1
    sent = await rows(database, "SELECT lead_id FROM webhook_deliveries")
    assert len(sent) == 3
    assert held[0] not in {row["lead_id"] for row in sent}
    assert len(await group_messages(database)) == 3

    # Asking again while held still sends nothing.
    held_person = await rows(
        database, "SELECT external_id FROM conversations c JOIN leads l ON l.conversation_id = c.id"
        " WHERE l.id = :id", id=held[0],
    )  # fmt: skip
    await ask_again(service, held_person[0]["external_id"], source=ADDRESS)
    assert len(await rows(database, "SELECT id FROM webhook_deliveries")) == 3

    async with database.transaction() as tx:
        released = await handoff.release(tx, held[0], now=utcnow())
        assert released is not None
        assert await handoff.release(tx, held[0], now=utcnow()) is None
    [created] = await rows(
        database,
        "SELECT event_type FROM webhook_deliveries WHERE lead_id = :id AND endpoint_id = :e",
        id=held[0],
        e=endpoint,
    )
    assert created["event_type"] == "lead.created"
    assert len(await group_messages(database)) == 4


async def test_leads_finished_at_once_from_one_address_share_its_limit(
    database: Database,
) -> None:
    # Each used to see the address's last token before any spent it: all went out.
    handoff = LeadHandoff(lead_limit=RateLimiter(Rate(1, 3600.0), clock=Ticks()))
    service = await service_with(database, handoff)
    people = [f"person-{n}" for n in range(4)]
    await asyncio.gather(*(finish_as_lead(service, p, source=ADDRESS) for p in people))

    leads = await rows(database, "SELECT held_at FROM leads")
    assert len(leads) == 4
    assert sum(lead["held_at"] is None for lead in leads) == 1


async def test_finishing_again_and_again_sends_one_lead_updated_a_window(
    database: Database,
) -> None:
    endpoint = await register_endpoint(database)
    handoff = LeadHandoff(update_window=timedelta(minutes=5))
    service = await service_with(database, handoff)
    await finish_as_lead(service, "person")
    await all_delivered(database)

    for _ in range(4):
        await ask_again(service, "person")
    deliveries = await rows(
        database,
        "SELECT event_type, body, created_at, next_attempt_at FROM webhook_deliveries"
        " WHERE endpoint_id = :e ORDER BY created_at, id",
        e=endpoint,
    )
    # The created one went out; four new requests are one waiting update, with the last data.
    assert [d["event_type"] for d in deliveries] == ["lead.created", "lead.updated"]
    update = json.loads(deliveries[1]["body"])
    assert update["data"]["human_requested"] is True

    await all_delivered(database)
    await ask_again(service, "person")
    later = await rows(
        database,
        "SELECT created_at, next_attempt_at FROM webhook_deliveries"
        " WHERE endpoint_id = :e AND event_type = 'lead.updated' ORDER BY created_at, id",
        e=endpoint,
    )
    assert len(later) == 2
    # Not before a window after the previous update.
    first_queued = as_datetime(later[0]["created_at"])
    assert first_queued is not None
    assert as_datetime(later[1]["next_attempt_at"]) == first_queued + timedelta(minutes=5)


async def test_a_lead_not_yet_sent_carries_the_newest_data_in_its_one_event(
    database: Database,
) -> None:
    endpoint = await register_endpoint(database)
    service = await service_with(database, LeadHandoff())
    await finish_as_lead(service, "person")
    await ask_again(service, "person")
    [only] = await rows(
        database, "SELECT event_type, body FROM webhook_deliveries WHERE endpoint_id = :e",
        e=endpoint,
    )  # fmt: skip
    assert only["event_type"] == "lead.created"
    assert json.loads(only["body"])["data"]["human_requested"] is True


async def test_beyond_its_rate_the_group_gets_one_digest_at_the_end_of_the_window(
    database: Database,
) -> None:
    clock = ManualClock()
    opened = clock.now
    handoff = LeadHandoff(
        counsellor_chat_id=GROUP,
        public_url="https://aiguillage.example",
        notices=NoticeGate(2, timedelta(minutes=10), clock=clock),
    )
    service = await service_with(database, handoff)
    for n in range(5):
        await finish_as_lead(service, f"person-{n}")

    messages = await group_messages(database)
    assert len(messages) == 3
    first, second, digest = (m["payload"]["text"] for m in messages)
    assert first.startswith("📥 Nouvelle demande")
    assert second.startswith("📥 Nouvelle demande")
    assert digest.startswith("📥 +3 nouvelles demandes en 10 min")
    assert "https://aiguillage.example/admin/leads" in digest
    assert as_datetime(messages[2]["not_before"]) == opened + timedelta(minutes=10)
    assert messages[2]["payload"]["link_preview_options"] == {"is_disabled": True}

    clock.advance(timedelta(minutes=10))
    await finish_as_lead(service, "person-after")
    messages = await group_messages(database)
    assert len(messages) == 4
    assert messages[3]["payload"]["text"].startswith("📥 Nouvelle demande")


async def test_notices_held_back_together_make_one_digest(database: Database) -> None:
    # Each used to find no digest yet (the first one's was not committed) and wrote its own.
    handoff = LeadHandoff(counsellor_chat_id=GROUP, notices=NoticeGate(1, timedelta(minutes=10)))
    service = await service_with(database, handoff)
    people = [f"person-{n}" for n in range(5)]
    await asyncio.gather(*(finish_as_lead(service, p) for p in people))

    notice, digest = (m["payload"]["text"] for m in await group_messages(database))
    assert notice.startswith("📥 Nouvelle demande")
    assert digest.startswith("📥 +4 nouvelles demandes en 10 min")


async def test_invented_referral_codes_are_one_unknown_bucket_and_reach_no_partner(
    database: Database,
) -> None:
    partner = await register_endpoint(database, referrer="ML_POISSY")
    service = await service_with(database, LeadHandoff())
    await finish_as_lead(service, "spam-lead", code="ML_POISSX")
    await finish_as_lead(service, "real-lead", code="ML_POISSY")
    for n in range(1000):
        await service.handle(
            channel="web",
            external_id=f"spam-{n}",
            received=Input(command="start", payload=f"CODE_{n}"),
        )

    async with database.transaction() as tx:
        stats = await referrer_stats(tx)
    assert [(s.code, s.conversations, s.leads) for s in stats] == [
        ("ML_POISSY", 1, 1),
        ("unknown", 1001, 1),
    ]
    leads = await rows(database, "SELECT referrer_code FROM leads ORDER BY referrer_code")
    assert [lead["referrer_code"] for lead in leads] == ["ML_POISSY", "unknown"]
    assert len(await rows(database, "SELECT id FROM webhook_deliveries WHERE endpoint_id = :e",
                          e=partner)) == 1  # fmt: skip


async def test_codes_kept_before_the_unknown_bucket_are_counted_in_it(
    database: Database,
) -> None:
    async with database.transaction() as tx:
        await register_referrer(tx, "SALON", "Salon")
    service = await service_with(database, LeadHandoff())
    await service.handle(
        channel="web", external_id="old-one", received=Input(command="start", payload="SALON")
    )
    # As an older version stored it: the raw code of a link nobody registered.
    async with database.transaction() as tx:
        await tx.execute("UPDATE conversations SET referrer_code = 'FLYER_X'")
        stats = await referrer_stats(tx)
    assert [(s.code, s.conversations) for s in stats] == [("SALON", 0), ("unknown", 1)]
