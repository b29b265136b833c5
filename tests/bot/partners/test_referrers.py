"""What each partner's code brought, whatever channel its people wrote on."""

from __future__ import annotations

import asyncio
import random

from alembic import command
from sqlalchemy import select

from bot.appointments.bookings import ATTENDED, bookings_of_lead
from bot.clock import utcnow
from bot.conversations.service import ConversationService
from bot.leads.store import lead_of_conversation
from bot.partners.referrers import referrer_stats
from bot.storage.migrate import alembic_config
from bot.storage.models import AppointmentBooking, Lead, LeadStatusChange
from tests.auxil.funnel_data import change_statuses, converse, settle_bookings
from tests.auxil.sessions import open_session
from tests.auxil.webhook_receiver import register_referrer

STATUS_PATHS = (
    (),
    ("contacted",),
    ("enrolled",),
    ("enrolled", "contacted"),
    ("appointment", "withdrawn"),
    ("contacted", "enrolled", "not_eligible"),
)


async def test_a_partners_figures_count_its_people_on_every_channel(
    service: ConversationService,
) -> None:
    async with service.database.transaction() as tx:
        await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
    # A session is open: whoever finishes books it, on whatever channel.
    await open_session(service.appointments)
    # One person on the web chat and two on WhatsApp (one leaves early), one on Telegram.
    await converse(service, "web-person", referrer="ML_POISSY")
    whatsapp = await converse(service, "33612345678", channel="whatsapp", referrer="ML_POISSY")
    await converse(
        service, "33600000000", channel="whatsapp", referrer="ML_POISSY", stop_at="postal_code"
    )
    await converse(service, "123456789", channel="telegram", referrer="ML_POISSY")
    async with service.database.transaction() as tx:
        lead = await lead_of_conversation(tx, whatsapp)
        assert lead is not None
        [booking] = await bookings_of_lead(tx, lead.id)
    await service.appointments.mark_attendance(booking.id, True, by="c@poles.example")
    await change_statuses(service, whatsapp, "enrolled")

    async with service.database.transaction() as tx:
        stats = await referrer_stats(tx)
    [poissy] = [item for item in stats if item.code == "ML_POISSY"]
    counted = (
        poissy.conversations, poissy.completions, poissy.leads, poissy.bookings,
        poissy.attendances, poissy.enrolments,
    )  # fmt: skip
    assert counted == (4, 3, 3, 3, 1, 1)


async def figures_by_definition(service: ConversationService) -> dict[str | None, tuple[int, ...]]:
    """Each code's (leads, enrolments, bookings, attendances), read from the facts themselves:
    the status history, the bookings (what the page read before the leads kept them)."""
    async with service.database.transaction() as tx:
        leads = await tx.all(select(Lead.id, Lead.referrer_code, Lead.status))
        enrolled = set(
            await tx.scalars(
                select(LeadStatusChange.lead_id).where(LeadStatusChange.status == "enrolled")
            )
        )
        booked = set(await tx.scalars(select(AppointmentBooking.lead_id)))
        attended = set(
            await tx.scalars(
                select(AppointmentBooking.lead_id).where(AppointmentBooking.status == ATTENDED)
            )
        )
    figures: dict[str | None, list[int]] = {}
    for lead_id, code, status in leads:
        row = figures.setdefault(code if code in ("ML_POISSY", None) else "unknown", [0] * 4)
        row[0] += 1
        row[1] += status == "enrolled" or lead_id in enrolled
        row[2] += lead_id in booked
        row[3] += lead_id in attended
    return {code: tuple(row) for code, row in figures.items()}


async def leads_with_histories(service: ConversationService, seed: int) -> None:
    """People of three codes; their leads moved through statuses, bookings made, cancelled,
    marked present and corrected, some erased."""
    chance = random.Random(seed)
    async with service.database.transaction() as tx:
        await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
    await open_session(service.appointments, capacity=100)
    ids = [
        await converse(
            service,
            f"person-{number}",
            referrer=chance.choice(("ML_POISSY", "OTHER", None)),
            answers={"session": {"choice": "none"}} if chance.random() < 0.3 else None,
        )
        for number in range(24)
    ]
    for conversation_id in ids:
        async with service.database.transaction() as tx:
            lead = await lead_of_conversation(tx, conversation_id)
            booked = await bookings_of_lead(tx, lead.id) if lead is not None else []
        # Enrolled then moved on, contacted, withdrawn…: enrolled once still counts.
        await change_statuses(service, conversation_id, *chance.choice(STATUS_PATHS))
        await settle_bookings(service, booked, chance, cancelled=0.3, present=0.5, corrected=0.4)
        if chance.random() < 0.15:
            async with service.database.transaction() as tx:
                await service.handoff.erase(tx, conversation_id, now=utcnow())


async def counted_figures(service: ConversationService) -> dict[str | None, tuple[int, ...]]:
    async with service.database.transaction() as tx:
        stats = await referrer_stats(tx)
    return {
        item.code: (item.leads, item.enrolments, item.bookings, item.attendances)
        for item in stats
        if item.leads
    }


async def test_the_figures_kept_on_each_lead_are_those_of_its_history_and_bookings(
    service: ConversationService,
) -> None:
    await leads_with_histories(service, seed=18)
    expected = await figures_by_definition(service)
    assert await counted_figures(service) == expected
    assert sum(row[2] for row in expected.values()) > 0  # bookings and attendances were made
    assert sum(row[3] for row in expected.values()) > 0


async def test_the_upgrade_gives_the_leads_already_there_their_figures(
    service: ConversationService, database_url: str
) -> None:
    await leads_with_histories(service, seed=15)
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0014_partial_indexes")
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await counted_figures(service) == await figures_by_definition(service)
