"""Sessions a person may book, as the engine offers them: data the caller gives, no I/O.

The engine cannot read the database. When a step needs the sessions open to the person
(``choices_from: sessions``, or the ``sessions_count`` fact), it raises ``OffersNeeded``
with what to look for; the caller finds them and runs the same input again with them in
the context under ``sessions``. A turn is computed on a copy of the state, so running it
again changes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from flows.i18n import Language

# Where the sessions take place: their times are said in it.
PARIS = ZoneInfo("Europe/Paris")

NONE_OF_THEM = "none"


@dataclass(frozen=True)
class SessionOffer:
    """One session the person can book: when, where, and for which of their programmes."""

    id: str
    programme: str
    starts_at: datetime
    duration_minutes: int
    site_name: str
    place: str | None = None
    video_url: str | None = None
    map_url: str | None = None
    bring: tuple[str, ...] = ()


class OffersNeeded(Exception):  # noqa: N818 (a request to the caller, not a fault)
    """The step needs the sessions open at ``site`` for ``programmes`` (best fit first)."""

    def __init__(self, site: str | None, programmes: tuple[str, ...]) -> None:
        super().__init__(site, programmes)
        self.site = site
        self.programmes = programmes


def spoken_datetime(moment: datetime, language: Language) -> str:
    """A moment as people say it, in Paris time: "mardi 12 mai à 10 h", "10 h 30"."""
    local = moment.astimezone(PARIS)
    day = format_date(local, "EEEE d MMMM", locale=language)
    if language == "fr":
        hour = f"{local.hour} h" + (f" {local.minute:02d}" if local.minute else "")
        return f"{day} à {hour}"
    return f"{day} at {local:%H:%M}"
