"""One messenger's pipeline in a process, assembled and run the same way for every channel.

A channel's runtime (bot/channels/<name>/runtime.py) brings its ``Steps`` and its
``Messenger``; this builds around them the inbox processor, the outbox sender and the "sent"
marks they share, and starts and stops their background jobs (and the reminders, in one
runtime of the process).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from bot.messaging.messenger import Messenger
from bot.messaging.outbox import SentMarks
from bot.messaging.pace import Clock
from bot.messaging.processor import Accepted, InboxProcessor, Steps
from bot.messaging.reminders import ReminderJob
from bot.messaging.sender import OutboxSender
from bot.storage.database import Database

# A job that runs until the event is set.
Job = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
# How long stopping waits for a job to finish the step it is in.
STOP_WITHIN = 10.0


class Pipeline:
    """A messenger's inbox processor and outbox sender, and their background jobs."""

    def __init__(
        self,
        database: Database,
        steps: Steps,
        messenger: Messenger,
        *,
        sqlite: bool,
        overall_rate: float,
        clock: Clock | None = None,
        reminders: ReminderJob | None = None,
    ) -> None:
        # Replies delivered but not yet marked sent: the next step's transaction marks them.
        marks = SentMarks(database)
        self.sender = OutboxSender(
            database, messenger, marks, overall_rate=overall_rate, clock=clock
        )
        self.processor = InboxProcessor(
            database,
            steps,
            sender=self.sender,
            marks=marks,
            # SQLite has one writer at a time: parallel chats would only wait for each other.
            concurrency=1 if sqlite else 8,
            # Two seconds of the messenger's pace being sent at once; more waits as rows.
            delivering_at_most=max(int(2 * overall_rate), 8),
        )
        # Reminders for every channel run in one runtime of the process (webhook/services.py).
        self.reminders = reminders
        self._background = False
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def start(self, *, background: bool) -> None:
        """Start the jobs; without ``background`` the caller drives them (step-by-step tests)."""
        self._background = background
        if not background:
            return
        self._stopping.clear()
        jobs: list[Job] = [self.processor.run, self.sender.run]
        if self.reminders is not None:
            jobs.append(self.reminders.run)
        self._tasks = [asyncio.create_task(job(self._stopping)) for job in jobs]

    async def stop(self) -> None:
        """Stop the jobs; what is queued stays in the database for next time."""
        # Let each job finish the step it is in (a transaction cut short leaks its connection).
        await self.processor.drain()
        self._stopping.set()
        self.processor.wake.set()
        self.sender.wake.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_WITHIN)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.sender.flush()
        self._tasks.clear()

    async def accept(self, update: dict[str, Any], *, webhook: bool = False) -> Accepted:
        """Store an update once and apply it (bot/messaging/processor.py)."""
        accepted = await self.processor.accept(update, webhook=webhook)
        if not self._background:
            # Step-by-step tests see the replies once the update is accepted.
            await self.processor.drain()
        return accepted
