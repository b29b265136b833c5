"""When a booking's reminders are due: the evening before, in Paris time, and hours before.

"The evening before at 18 h" is a Paris wall-clock time, whatever the offset that day; "two
hours before" is two real hours, so a session the morning after a daylight-saving change is
still reminded two hours ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.clock import PARIS

DAY_BEFORE = "day_before"
HOURS_BEFORE = "hours_before"
KINDS = (DAY_BEFORE, HOURS_BEFORE)


@dataclass(frozen=True)
class ReminderPlan:
    evening_hour: int = 18
    hours_before: float = 2.0

    def due_times(self, starts_at: datetime, *, now: datetime) -> list[tuple[str, datetime]]:
        """Each reminder still ahead (kind, when), earliest first. One not sent before the
        booking is dropped; the evening one too when it would come after the other."""
        day_before = starts_at.astimezone(PARIS).date() - timedelta(days=1)
        evening = datetime.combine(day_before, time(self.evening_hour), tzinfo=PARIS)
        shortly = starts_at - timedelta(hours=self.hours_before)
        due = [(DAY_BEFORE, evening), (HOURS_BEFORE, shortly)]
        return [(kind, at) for kind, at in due if now < at < starts_at and at <= shortly]
