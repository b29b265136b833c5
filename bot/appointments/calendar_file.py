"""A booked session as a calendar file (``.ics``, RFC 5545), made with the icalendar library.

A person adds it to their phone's calendar in one tap: the web chat links to it, Telegram and
WhatsApp get it as a document. Its times are written in Paris time with the zone's definition
(VTIMEZONE) beside them, so that a calendar shows the session at the hour the confirmation
said, wherever the phone thinks it is. A DISPLAY alarm two hours before is the file's own
reminder, in case our messages do not reach the person.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from bot.appointments.links import make_token
from bot.appointments.map_link import map_link
from bot.appointments.sessions import SessionRecord
from bot.clock import PARIS
from flows.catalogue import default_catalogue
from flows.i18n import Language, text

FILENAME = "rendez-vous.ics"
MIME_TYPE = "text/calendar"
PRODUCT_ID = "-//PoleS//Aiguillage//FR"
TZID = "Europe/Paris"
ALARM_BEFORE = timedelta(hours=2)
# Where the web chat downloads a booking's file (webhook/api/calendar.py serves it).
CALENDAR_PATH = "/api/chat/calendar/"
_DAY = timedelta(days=1)


def calendar_file(
    session: SessionRecord,
    *,
    title: str,
    description: str,
    location: str | None,
    uid_domain: str = "aiguillage.poles",
    booking_id: str | None = None,
    stamp: datetime | None = None,
) -> bytes:
    """The session as one VEVENT in a VCALENDAR, encoded as RFC 5545 asks (UTF-8, CRLF lines).

    The UID names the session (and the booking when given): a file downloaded again, or sent
    again after the session moved, updates the same event instead of adding a second one.
    ``stamp`` (DTSTAMP: when the file was made) defaults to the session's start, so that the
    same booking always gives the same bytes. A video session's link is the event's URL.
    """
    uid = f"{session.id}-{booking_id}@{uid_domain}" if booking_id else f"{session.id}@{uid_domain}"
    event = Event.new(
        uid=uid,
        stamp=(stamp or session.starts_at).astimezone(UTC),
        start=_wall_clock(session.starts_at),
        end=_wall_clock(session.ends_at),
        summary=title,
        description=description or None,
        location=location or None,
        url=session.video_url or None,
    )
    event.add_component(Alarm.new_display(title, -ALARM_BEFORE))
    zone = paris_timezone(session.starts_at - _DAY, session.ends_at + _DAY)
    calendar = Calendar.new(prodid=PRODUCT_ID, method="PUBLISH", uid=uid)
    calendar.add_component(zone)
    calendar.add_component(event)
    content: bytes = calendar.to_ical()
    return content


def _wall_clock(moment: datetime) -> datetime:
    """The moment in Paris time, or in UTC when Paris time cannot name it alone.

    The hour after clocks go back happens twice (02:30 on the last Sunday of October), and a
    TZID time names the first one (RFC 5545, 3.3.5): a session in the second is written in UTC.
    """
    local = moment.astimezone(PARIS)
    if local.replace(fold=0).astimezone(UTC) != moment.astimezone(UTC):
        return moment.astimezone(UTC)
    return local


def paris_timezone(first: datetime, last: datetime) -> Timezone:
    """Europe/Paris as a VTIMEZONE from the system's zone data, for the years around an event.

    icalendar's ``add_missing_timezones`` would write it too, but (7.3) dates the spring change
    at 03:00 after an offset of +01:00, an hour late; RFC 5545 (3.6.5) dates each change in the
    local time before it, as here. Only the event's years: every change since 1970 would
    triple the file.
    """
    start = datetime(first.astimezone(PARIS).year, 1, 1, tzinfo=PARIS).astimezone(UTC)
    end = datetime(last.astimezone(PARIS).year + 1, 1, 1, tzinfo=PARIS).astimezone(UTC)
    zone = Timezone()
    zone.add("TZID", TZID)
    zone.add_component(_observance(start, _offset(start), _offset(start)))
    day = start
    while day < end:
        following = day + _DAY
        if _offset(following) != _offset(day):
            changed = _change_within(day, following)
            zone.add_component(_observance(changed, _offset(day), _offset(changed)))
        day = following
    return zone


def _offset(moment: datetime) -> timedelta:
    offset = moment.astimezone(PARIS).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset


def _change_within(before: datetime, after: datetime) -> datetime:
    """The first second on the new offset, between two moments a day apart (binary search)."""
    old = _offset(before)
    low, high = int(before.timestamp()), int(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(datetime.fromtimestamp(middle, UTC)) == old:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _observance(
    onset: datetime, offset_from: timedelta, offset_to: timedelta
) -> TimezoneDaylight | TimezoneStandard:
    local = onset.astimezone(PARIS)
    observance = TimezoneDaylight() if local.dst() else TimezoneStandard()
    observance.add("TZNAME", local.tzname())
    observance.TZOFFSETFROM = offset_from
    observance.TZOFFSETTO = offset_to
    # The onset as a wall clock still on the old offset showed it (RFC 5545's own examples).
    observance.DTSTART = (onset.astimezone(UTC) + offset_from).replace(tzinfo=None)
    return observance


def appointment_calendar(
    session: SessionRecord, *, programme: str, language: Language, booking_id: str | None = None
) -> bytes:
    """A booking's calendar file in the person's language: what, where, what to bring."""
    catalogue = default_catalogue()
    programme_name = text(f"programme.{programme}", language)
    site_names = {site.id: site.name for site in catalogue.sites}
    # A site taken out of the catalogue since the session opened: its id still says it.
    lines = [f"{programme_name} – PôleS {site_names.get(session.site, session.site)}"]
    if session.place:
        place = text("booking.place", language, place=session.place, map=map_link(session.place))
        lines.append(place)
    if session.video_url:
        lines.append(text("booking.video", language, url=session.video_url))
    rules = {str(name): rule for name, rule in catalogue.programmes.items()}.get(programme)
    bring = [text(f"bring.{item}", language) for item in (rules.bring if rules else [])]
    if bring:
        lines.append(text("booking.bring", language, items=", ".join(bring)))
    return calendar_file(
        session,
        title=f"{programme_name} – PôleS",
        description="\n".join(lines),
        location=session.place,
        booking_id=booking_id,
    )


def calendar_path(booking_id: str, ends_at: datetime, key: bytes) -> str:
    """The web chat's link to a booking's file: a signed token that expires the day after the
    session (bot/appointments/links.py), so that it opens without a session (``key``: the
    service's signing key, as for the SMS links)."""
    return f"{CALENDAR_PATH}{make_token(booking_id, ends_at, key)}.ics"
