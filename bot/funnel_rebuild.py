"""Computing every conversation's funnel stage again, in short batches.

Needed when the stored stages were computed with another plan (the flow file's questions or
rules changed: bot/funnel.py ``fingerprint``) or never computed (conversations from before
migration 0012). ``aiguillage funnel rebuild`` runs it, and ``serve`` in the background when
needed. Each batch is one short transaction over a few hundred conversations in key order,
so steps wait at most one batch; between batches the event loop runs others' requests. A
rebuild stopped half-way goes on from where it got to; meanwhile the funnel page says the
figures are being updated, and how far it got.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Text, func, insert, select, type_coerce, update

from bot.clock import utcnow
from bot.funnel import ConversationFacts, fingerprint, state_stage
from bot.funnel_stages import refresh_conversations
from bot.storage.database import Database, Transaction
from bot.storage.models import Conversation, FunnelPlan
from flows.flow import Flow

logger = logging.getLogger(__name__)

BATCH = 500
_PLAN_ID = 1


@dataclass(frozen=True)
class Progress:
    """Whether the stored stages are the flow's, and how far a rebuild under way got."""

    current: bool
    done: int = 0
    total: int = 0


async def progress(tx: Transaction, flow: Flow) -> Progress:
    """Whether the page may trust the stored stages for this flow (one primary-key read)."""
    row = await tx.first(
        select(
            FunnelPlan.fingerprint, FunnelPlan.complete, FunnelPlan.done, FunnelPlan.total
        ).where(FunnelPlan.id == _PLAN_ID)
    )
    if row is None:
        return Progress(current=False)
    plan, complete, done, total = row
    if plan != fingerprint(flow):
        return Progress(current=False)
    return Progress(current=bool(complete), done=done, total=total)


async def prepare(database: Database, flow: Flow) -> bool:
    """At start: whether a rebuild is needed. An empty database is up to date at once."""
    async with database.transaction() as tx:
        if (await progress(tx, flow)).current:
            return False
        if await tx.scalar(select(Conversation.id).limit(1)) is not None:
            return True
        await mark_current(tx, flow)
        return False


async def mark_current(tx: Transaction, flow: Flow) -> None:
    """Record the stored stages as this flow's, with nothing to compute: an empty database, or
    one whose rows were copied with their stages (bench/admin_scale.py)."""
    await _start(tx, flow, total=0)
    await _finish(tx)


async def rebuild(
    database: Database, flow: Flow, *, batch: int = BATCH, stop: asyncio.Event | None = None
) -> int:
    """Compute the stages again where needed; how many conversations were computed.

    ``stop``: set, the rebuild ends after the batch under way (the next one goes on).
    """
    async with database.transaction() as tx:
        row = await tx.first(
            select(FunnelPlan.fingerprint, FunnelPlan.complete, FunnelPlan.rebuilt_to).where(
                FunnelPlan.id == _PLAN_ID
            )
        )
        wanted = fingerprint(flow)
        if row is not None and row[0] == wanted and row[1]:
            return 0
        if row is not None and row[0] == wanted:
            after = row[2] or ""  # a rebuild of this plan stopped half-way: go on
        else:
            total = await tx.scalar(select(func.count()).select_from(Conversation)) or 0
            await _start(tx, flow, total=int(total))
            after = ""
    computed = 0
    while stop is None or not stop.is_set():
        async with database.transaction() as tx:
            ids = await _batch(tx, flow, after=after, limit=batch)
            computed += len(ids)
            if ids:
                after = ids[-1]
                await tx.run(
                    update(FunnelPlan)
                    .where(FunnelPlan.id == _PLAN_ID)
                    .values(rebuilt_to=after, done=FunnelPlan.done + len(ids), updated_at=utcnow())
                )
            if len(ids) < batch:
                await _finish(tx)
                logger.info("funnel stages rebuilt", extra={"conversations": computed})
                return computed
        # Others' requests run between two batches; a command's own SQLite log stays bounded.
        await database.between_batches()
        await asyncio.sleep(0)
    return computed


async def _batch(tx: Transaction, flow: Flow, *, after: str, limit: int) -> list[str]:
    """Compute the stages of the next conversations after ``after``; their ids, in order."""
    # Locked on PostgreSQL (SQLite's transaction holds its one write lock): a step of one of
    # these conversations waits for this batch rather than have its stage overwritten.
    rows = await tx.all(
        select(Conversation.id, type_coerce(Conversation.state, Text))
        .where(Conversation.id > after)
        .order_by(Conversation.id)
        .limit(limit)
        .with_for_update()
    )
    by_stage: defaultdict[str, list[str]] = defaultdict(list)
    for conversation_id, raw in rows:
        facts = ConversationFacts.read(conversation_id, raw)
        by_stage[state_stage(flow, facts.state)].append(conversation_id)
    for stage, ids in by_stage.items():
        await tx.run(
            update(Conversation)
            .where(Conversation.id.in_(ids))
            .values(state_stage=stage, updated_at=Conversation.updated_at)
        )
    ids = [conversation_id for conversation_id, _ in rows]
    # The lead's stage, and the one counted (COALESCE), for the whole batch at once.
    await refresh_conversations(tx, ids)
    return ids


async def _start(tx: Transaction, flow: Flow, *, total: int) -> None:
    values = {
        "fingerprint": fingerprint(flow),
        "rebuilt_to": "",
        "complete": False,
        "done": 0,
        "total": total,
        "updated_at": utcnow(),
    }
    changed = await tx.run(update(FunnelPlan).where(FunnelPlan.id == _PLAN_ID).values(**values))
    if not changed:
        await tx.run(insert(FunnelPlan).values(id=_PLAN_ID, **values))


async def _finish(tx: Transaction) -> None:
    await tx.run(
        update(FunnelPlan)
        .where(FunnelPlan.id == _PLAN_ID)
        .values(complete=True, rebuilt_to=None, updated_at=utcnow())
    )


class BackgroundRebuild:
    """The rebuild ``serve`` runs when its start finds the stages out of date."""

    def __init__(self, database: Database, flow: Flow) -> None:
        self.database = database
        self.flow = flow
        self._task: asyncio.Task[int] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Start the rebuild if needed (returns at once)."""
        if await prepare(self.database, self.flow):
            self._task = asyncio.create_task(self._run(), name="funnel-rebuild")

    async def _run(self) -> int:
        try:
            return await rebuild(self.database, self.flow, stop=self._stopping)
        except Exception:
            # The page keeps saying the figures are being updated; the next start goes on.
            logger.exception("funnel rebuild failed")
            return 0

    async def stop(self) -> None:
        """Stop between two batches (the next start goes on from there).

        Not a cancellation: cancelled inside a transaction, the batch would keep its
        connection checked out and closing the database would wait for it.
        """
        self._stopping.set()
        if self._task is not None:
            await self._task
