"""A counsellor's change and a person's step on the same lead never deadlock (PostgreSQL).

A step locks its conversation, then its lead; a counsellor's status change refreshes the
conversation's funnel stage. Were it to lock the lead first, the two would wait on each other
and PostgreSQL would abort one of them.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from bot.clock import utcnow
from bot.conversations.service import ConversationService
from bot.leads.store import lead_of_conversation, set_status
from bot.storage.models import Conversation, Lead
from tests.auxil.funnel_data import converse

pytestmark = pytest.mark.postgresql_only

WAITING_ON_A_LOCK = (
    "SELECT count(*) AS waiting FROM pg_stat_activity "
    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
)


async def _someone_waits(service: ConversationService) -> None:
    """Until a transaction waits on a row lock (the event itself, polled)."""
    while True:
        async with service.database.transaction() as tx:
            found = await tx.fetch_one(WAITING_ON_A_LOCK)
        if found is not None and found["waiting"]:
            return
        await asyncio.sleep(0.01)


async def test_a_status_change_waits_for_the_step_instead_of_deadlocking(
    service: ConversationService,
) -> None:
    conversation_id = await converse(service, "samir")
    async with service.database.transaction() as tx:
        lead = await lead_of_conversation(tx, conversation_id)
    assert lead is not None
    step_holds_the_conversation = asyncio.Event()
    counsellor_waits = asyncio.Event()

    async def step() -> None:
        # As a step does: its conversation's row, then its lead's.
        async with service.database.transaction() as tx:
            # Read back, so the statement has run (writes may wait for the next one).
            await tx.scalar(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(updated_at=utcnow())
                .returning(Conversation.id)
            )
            step_holds_the_conversation.set()
            await counsellor_waits.wait()
            touch_lead = update(Lead).where(Lead.id == lead.id).values(updated_at=utcnow())
            await tx.scalar(touch_lead.returning(Lead.id))

    async def counsellor() -> None:
        await step_holds_the_conversation.wait()
        async with service.database.transaction() as tx:
            await set_status(tx, lead.id, "contacted", changed_by="c@poles.example", now=utcnow())

    async def watch() -> None:
        await step_holds_the_conversation.wait()
        await _someone_waits(service)
        counsellor_waits.set()

    await asyncio.wait_for(asyncio.gather(step(), counsellor(), watch()), timeout=60)
    async with service.database.transaction() as tx:
        changed = await lead_of_conversation(tx, conversation_id)
    assert changed is not None
    assert changed.status == "contacted"
