"""The funnel counted by the database equals the funnel's definition, on random people.

``load_funnel`` counts the stored stages (one GROUP BY); ``funnel(flow, *load_facts(...))`` is
the definition, from every state, lead, status and booking. People go through the real
service: random stops, referrers, languages, leads moved through statuses by counsellors,
bookings made, cancelled and marked, leads erased, conversations moved in time.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from bot.appointments.bookings import bookings_of_lead
from bot.clock import utcnow
from bot.conversations.service import ConversationService
from bot.funnel import FunnelFilters, Stage, funnel, load_facts, load_funnel
from bot.funnel_rebuild import prepare, progress, rebuild
from bot.leads.store import lead_of_conversation
from bot.storage.models import Conversation, FunnelPlan
from flows.flow import Flow
from tests.auxil.funnel_data import EARLY, change_statuses, converse, move_to, settle_bookings
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.sessions import open_session
from tests.auxil.webhook_receiver import register_referrer

STOPS = (None, None, None, "age", "postal_code", "situation", "interests", "confirm")
STATUS_PATHS = (
    (),
    ("contacted",),
    ("unreachable",),
    ("contacted", "unreachable"),
    ("appointment", "withdrawn"),
    ("contacted", "enrolled"),
    ("enrolled", "contacted"),
)


def filters_to_try(today: date) -> list[FunnelFilters]:
    return [
        FunnelFilters(),
        FunnelFilters(referrer="ML_POISSY"),
        FunnelFilters(referrer="SALON", language="en"),
        FunnelFilters(language="fr"),
        FunnelFilters(date_from=date(2024, 3, 10), date_to=date(2024, 3, 10)),
        FunnelFilters(date_from=today - timedelta(days=29)),
        FunnelFilters(referrer="ML_POISSY", date_to=date(2024, 3, 9)),
        FunnelFilters(referrer="NOBODY"),
    ]


def flow_of(service: ConversationService) -> Flow:
    return service.registry.current[service.flow_id]


async def both_ways(
    service: ConversationService, filters: FunnelFilters
) -> tuple[list[Stage], list[Stage]]:
    """(counted by the database, by the definition) for these filters."""
    async with service.database.transaction() as tx:
        counted = await load_funnel(tx, flow_of(service), filters)
        conversations, leads = await load_facts(tx, filters)
    return counted, funnel(flow_of(service), conversations, leads)


async def random_people(service: ConversationService, seed: int, people: int) -> list[str]:
    """People through the service, then counsellors and erasures at random."""
    chance = random.Random(seed)
    async with service.database.transaction() as tx:
        await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
        await register_referrer(tx, "SALON", "Salon emploi de Poissy")
    await open_session(service.appointments, capacity=100)
    ids = []
    for number in range(people):
        answers: dict[str | None, dict[str, object]] = {}
        if chance.random() < 0.1:
            answers["consent"] = {"choice": "no"}
        if chance.random() < 0.3:
            answers["session"] = {"choice": "none"}
        profile = {**SAMIR_IN_PANTIN, "age": 12} if chance.random() < 0.08 else SAMIR_IN_PANTIN
        if profile is not SAMIR_IN_PANTIN:
            answers[None] = {"choice": "later"}
        stop = chance.choice(STOPS)
        ids.append(
            await converse(
                service,
                f"person-{seed}-{number}",
                referrer=chance.choice(("ML_POISSY", "SALON", None)),
                language=chance.choice(("fr", "en", None)),
                profile=profile,
                answers=answers,
                stop_at=stop,
                back_at="situation" if stop is None and chance.random() < 0.1 else None,
                channel=chance.choice(("web", "telegram")),
            )
        )
    for conversation_id in ids:
        async with service.database.transaction() as tx:
            lead = await lead_of_conversation(tx, conversation_id)
            booked = await bookings_of_lead(tx, lead.id) if lead is not None else []
        if lead is None:
            continue
        await change_statuses(service, conversation_id, *chance.choice(STATUS_PATHS))
        await settle_bookings(service, booked, chance, cancelled=0.25, present=0.35, corrected=0.3)
        if chance.random() < 0.1:
            async with service.database.transaction() as tx:
                await service.handoff.erase(tx, conversation_id, now=utcnow())
    for conversation_id in chance.sample(ids, k=len(ids) // 4):
        await move_to(service, conversation_id, EARLY)
    return ids


async def test_the_counted_funnel_is_the_definition(service: ConversationService) -> None:
    # A new database: its (no) stages are up to date at once, then kept so by the writers.
    assert not await prepare(service.database, flow_of(service))
    await random_people(service, seed=18, people=30)

    for filters in filters_to_try(utcnow().date()):
        counted, defined = await both_ways(service, filters)
        assert counted == defined, filters
    everyone, _ = await both_ways(service, FunnelFilters())
    # The random people do reach the far stages (else the test would prove little).
    reached = {s.key: s.count for s in everyone}
    assert reached["started"] == 30
    assert min(reached["booked"], reached["attended"], reached["enrolled"]) >= 1
    async with service.database.transaction() as tx:
        assert (await progress(tx, flow_of(service))).current


async def test_a_rebuild_computes_stages_lost_or_of_another_plan(
    service: ConversationService,
) -> None:
    assert not await prepare(service.database, flow_of(service))
    await random_people(service, seed=7, people=12)
    expected = {f: (await both_ways(service, f))[1] for f in filters_to_try(utcnow().date())}
    # Rows from before the stages were kept, and a plan of another flow file.
    async with service.database.transaction() as tx:
        await tx.run(
            update(Conversation).values(state_stage=None, lead_stage=None, funnel_stage=None)
        )
        await tx.run(update(FunnelPlan).values(fingerprint="another flow", complete=True))
        assert not (await progress(tx, flow_of(service))).current

    # Stopped after its first batch, then started again: it goes on from there.
    stop = asyncio.Event()
    stop.set()
    assert await rebuild(service.database, flow_of(service), batch=5, stop=stop) == 0
    async with service.database.transaction() as tx:
        halfway = await progress(tx, flow_of(service))
    assert (halfway.current, halfway.done, halfway.total) == (False, 0, 12)
    assert await rebuild(service.database, flow_of(service), batch=5) == 12

    for filters, figures in expected.items():
        assert (await both_ways(service, filters))[0] == figures, filters
    async with service.database.transaction() as tx:
        done = await progress(tx, flow_of(service))
    assert (done.current, done.done, done.total) == (True, 12, 12)
    # Up to date: nothing to do.
    assert await rebuild(service.database, flow_of(service)) == 0


async def test_a_rebuild_lets_the_database_tidy_up_between_its_batches(
    service: ConversationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a command of its own beside the service, SQLite's log is bounded there (sqlite_wal).
    await random_people(service, seed=3, people=12)
    async with service.database.transaction() as tx:
        await tx.run(update(FunnelPlan).values(fingerprint="another flow", complete=True))
    tidied: list[int] = []

    async def between_batches() -> None:
        tidied.append(1)

    monkeypatch.setattr(service.database, "between_batches", between_batches)
    assert await rebuild(service.database, flow_of(service), batch=5) == 12
    assert len(tidied) == 2  # after the batches of 5 and 5, none after the last one of 2
