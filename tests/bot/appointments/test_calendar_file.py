"""The calendar file a person adds to their phone: read back with icalendar, at the right
instant even on the nights clocks change, with its reminder and its place."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar, Event

from bot.appointments.calendar_file import appointment_calendar, calendar_file
from bot.appointments.map_link import map_link
from bot.appointments.sessions import SessionRecord
from bot.clock import PARIS

PLACE = "PôleS Pantin, 12 rue Hoche, 93500 Pantin"
SESSION = SessionRecord(
    id="5e55",
    programmes=("ecole_du_web",),
    site="pantin",
    starts_at=datetime(2026, 5, 12, 8, 0, tzinfo=UTC),  # mardi 12 mai, 10 h à Paris
    duration_minutes=90,
    place=PLACE,
    video_url=None,
    capacity=12,
    seats_taken=3,
    status="open",
)


def at(moment: datetime) -> SessionRecord:
    return replace(SESSION, starts_at=moment)


def read(content: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(content)
    [event] = calendar.events
    return calendar, event


def made(session: SessionRecord = SESSION, **texts: str | None) -> bytes:
    return calendar_file(
        session,
        title=texts.get("title") or "L'École du Web – PôleS",
        description=texts.get("description") or "À apporter : ton CV.",
        location=texts.get("location", PLACE),
        booking_id="b00k",
    )


def test_the_file_reads_back_as_one_event_with_all_a_calendar_shows() -> None:
    calendar, event = read(made())

    assert str(event["UID"]) == "5e55-b00k@aiguillage.poles"
    assert event["SUMMARY"] == "L'École du Web – PôleS"
    assert event["LOCATION"] == PLACE
    assert event["DESCRIPTION"] == "À apporter : ton CV."
    assert event.start == datetime(2026, 5, 12, 10, 0, tzinfo=PARIS)
    assert event.end - event.start == timedelta(minutes=90)
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert "URL" not in event
    # Every TZID the event names is defined in the file itself.
    assert [zone.tz_name for zone in calendar.timezones] == ["Europe/Paris"]
    assert calendar.get_missing_tzids() == set()


def test_the_file_reminds_two_hours_before_with_the_sessions_title() -> None:
    _, event = read(made())

    [alarm] = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["DESCRIPTION"] == "L'École du Web – PôleS"
    assert alarm["TRIGGER"].dt == timedelta(hours=-2)
    [when] = event.alarms.times
    assert when.trigger.astimezone(UTC) == datetime(2026, 5, 12, 6, 0, tzinfo=UTC)


def test_a_video_session_carries_its_link_as_the_events_url() -> None:
    video = replace(SESSION, place=None, video_url="https://visio.example.org/poles-info")

    _, event = read(made(video, location=None))

    assert event["URL"] == "https://visio.example.org/poles-info"
    assert "LOCATION" not in event


@pytest.mark.parametrize(
    ("paris_time", "utc"),
    [
        # The spring night: 02:00-03:00 does not exist; that morning Paris is UTC+2.
        (datetime(2027, 3, 28, 10, 0, tzinfo=PARIS), datetime(2027, 3, 28, 8, 0, tzinfo=UTC)),
        (datetime(2027, 3, 28, 3, 30, tzinfo=PARIS), datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
        (datetime(2027, 3, 27, 10, 0, tzinfo=PARIS), datetime(2027, 3, 27, 9, 0, tzinfo=UTC)),
        # The autumn night: that morning Paris is UTC+1 again.
        (datetime(2026, 10, 25, 10, 0, tzinfo=PARIS), datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),
        (datetime(2026, 10, 24, 10, 0, tzinfo=PARIS), datetime(2026, 10, 24, 8, 0, tzinfo=UTC)),
    ],
)
def test_sessions_around_a_clock_change_read_back_at_their_instant(
    paris_time: datetime, utc: datetime
) -> None:
    assert paris_time.astimezone(UTC) == utc  # the cases say what they mean

    _, event = read(made(at(utc)))

    assert event.start.astimezone(UTC) == utc
    assert event.start.replace(tzinfo=None) == paris_time.replace(tzinfo=None)
    assert event.end.astimezone(UTC) == utc + timedelta(minutes=90)


@pytest.mark.parametrize(
    ("utc", "written"),
    [
        # 02:30 happens twice on 25 October 2026: a TZID time names the first (CEST) one...
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), b"DTSTART;TZID=Europe/Paris:20261025T023000"),
        # ...so the second (CET) one is written in UTC, not as a local time meaning another.
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), b"DTSTART:20261025T013000Z"),
    ],
)
def test_the_hour_that_happens_twice_keeps_its_instant(utc: datetime, written: bytes) -> None:
    content = made(at(utc))

    _, event = read(content)
    assert written in content.split(b"\r\n")
    assert event.start.astimezone(UTC) == utc


@pytest.mark.parametrize(
    "starts_at",
    [datetime(2027, 3, 28, 8, 0, tzinfo=UTC), datetime(2026, 12, 31, 22, 0, tzinfo=UTC)],
)
def test_the_time_zone_in_the_file_changes_at_the_instants_paris_does(starts_at: datetime) -> None:
    """A calendar that knows no zone data reads the VTIMEZONE: each change in it is dated, as
    RFC 5545 says, in the local time before it, and falls exactly when Paris changes."""
    calendar, _ = read(made(at(starts_at)))

    [zone] = calendar.timezones
    first, *changes = zone.subcomponents
    assert first["TZOFFSETFROM"].td == first["TZOFFSETTO"].td
    assert len(changes) >= 2  # the spring and autumn changes of the year at least
    for change in changes:
        offset_from, offset_to = change["TZOFFSETFROM"].td, change["TZOFFSETTO"].td
        instant = (change["DTSTART"].dt - offset_from).replace(tzinfo=UTC)
        assert (instant - timedelta(seconds=1)).astimezone(PARIS).utcoffset() == offset_from
        assert instant.astimezone(PARIS).utcoffset() == offset_to
        assert change.name == ("DAYLIGHT" if offset_to > offset_from else "STANDARD")
    covered = [change["DTSTART"].dt.year for change in changes]
    assert starts_at.astimezone(PARIS).year in covered


def test_the_same_booking_gives_the_same_bytes_within_rfc_5545s_line_length() -> None:
    content = made(description="x" * 400)

    assert content == made(description="x" * 400)
    lines = content.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert lines[-2:] == [b"END:VCALENDAR", b""]
    assert max(len(line) for line in lines) <= 75
    assert b"\n" not in content.replace(b"\r\n", b"")


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", ("L'École du Web", "pièce d'identité")), ("en", ("Web", "CV"))],
)
def test_a_bookings_file_says_what_where_and_what_to_bring(
    language: str, words: tuple[str, str]
) -> None:
    content = appointment_calendar(
        SESSION, programme="ecole_du_web", language="fr" if language == "fr" else "en"
    )

    _, event = read(content)
    description = str(event["DESCRIPTION"])
    assert all(word in description for word in words)
    assert map_link(PLACE) in description
    assert PLACE in description
    assert words[0] in str(event["SUMMARY"])
    assert event["LOCATION"] == PLACE
