"""Sending bookings' reminders when they fall due, on the person's channel or by SMS.

Each reminder is claimed with a lease and marked sent in the same transaction as the
message it queues (the outbox then sends it): it is sent once, survives restarts, and a
cancelled booking's reminders were deleted with the cancellation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.appointments import bookings, reminder_store
from bot.appointments.service import Appointments
from bot.storage.database import Database
from bot.waiting import wait_for_work

logger = logging.getLogger(__name__)
BATCH = 50


class AppointmentReminderJob:
    """Queues due reminders every ``every_seconds`` (and when woken)."""

    def __init__(
        self, appointments: Appointments, database: Database, *, every_seconds: float = 60.0
    ) -> None:
        self.appointments = appointments
        self.database = database
        self.every_seconds = every_seconds

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Remind in the background while the block runs; then end the round in flight."""
        stopping = asyncio.Event()
        task = asyncio.create_task(self.run(stopping))
        try:
            yield
        finally:
            stopping.set()
            await task

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.run_due()
            except Exception:  # a database hiccup must not end the job
                logger.exception("appointment reminders failed")
            await wait_for_work(stopping, self.every_seconds, clear=False)

    async def run_due(self) -> int:
        """Queue every reminder due now; how many reached someone."""
        sent = 0
        while True:
            async with self.database.transaction() as tx:
                now = self.appointments.clock()
                due = await reminder_store.claim_due(tx, now=now, limit=BATCH)
                for reminder in due:
                    booking = await bookings.get_booking(tx, reminder.booking_id)
                    reached = booking is not None and await self.appointments.remind(
                        tx, booking, reminder.kind
                    )
                    # Not reachable (no channel that can be written to, no SMS agreed):
                    # it is not tried again; the counsellor's page shows who has no reminder.
                    await reminder_store.mark_sent(tx, reminder.id, now=now)
                    sent += int(reached)
                    logger.info(
                        "appointment reminder",
                        extra={"booking": reminder.booking_id, "kind": reminder.kind,
                               "reached": reached},
                    )  # fmt: skip
            if len(due) < BATCH:
                return sent
