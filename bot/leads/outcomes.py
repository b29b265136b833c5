"""What became of a lead, kept on its own row for the partners' figures.

Enrolled once (whatever its status since), booked a session once (whatever became of the
booking), present at one: the referrers page counts them by referral code. Read from the
status history and the bookings at every load, they cost a lookup per lead (some 450 ms at
100k leads on SQLite, issue #18); kept on the lead, with one index, the page reads that index
alone. Every writer of those facts calls ``refresh`` after its own writes, in its own
transaction (through bot/funnel_stages.py ``refresh_lead``); the database computes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, update

from bot.funnel_stages import had_status
from bot.storage.database import Transaction
from bot.storage.models import AppointmentBooking, Lead

_CHUNK = 500


def outcome_values() -> dict[str, ColumnElement[bool]]:
    """The three columns as the database computes them for the lead being updated."""
    # Imported here: bot/appointments/bookings.py refreshes leads after its writes.
    from bot.appointments.bookings import ATTENDED
    from bot.funnel import ENROLLED_STATUSES

    return {
        # As the funnel counts a lead enrolled (bot/funnel_stages.py).
        "enrolled_once": had_status(ENROLLED_STATUSES),
        "booked": exists().where(AppointmentBooking.lead_id == Lead.id),
        "attended": exists().where(
            AppointmentBooking.lead_id == Lead.id, AppointmentBooking.status == ATTENDED
        ),
    }


async def refresh(tx: Transaction, lead_ids: Sequence[str]) -> None:
    """Compute again what became of these leads (after their status or bookings changed)."""
    values = outcome_values()
    for start in range(0, len(lead_ids), _CHUNK):
        chunk = list(lead_ids[start : start + _CHUNK])
        await tx.run(update(Lead).where(Lead.id.in_(chunk)).values(**values))
