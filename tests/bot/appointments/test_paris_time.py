"""Counsellors' Paris times read as moments, across the clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.appointments.paris_time import NoSuchTime, paris_moment, paris_text, parse_start


def test_a_winter_and_a_summer_time_are_one_and_two_hours_ahead_of_utc() -> None:
    assert parse_start("2026-01-13 10:00") == datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
    assert parse_start(" 2026-05-12 10:00 ") == datetime(2026, 5, 12, 8, 0, tzinfo=UTC)
    assert paris_text(datetime(2026, 5, 12, 8, 0, tzinfo=UTC)) == "2026-05-12 10:00"


def test_a_time_the_spring_change_skips_is_refused_not_moved() -> None:
    # 29 March 2026: at 02:00 the clocks go to 03:00.
    with pytest.raises(NoSuchTime, match="does not exist in Paris"):
        paris_moment(date(2026, 3, 29), time(2, 30))
    assert paris_moment(date(2026, 3, 29), time(3, 0)) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_time_the_autumn_change_repeats_is_its_first_summer_time() -> None:
    # 25 October 2026: 02:30 happens at 00:30 UTC, then again at 01:30 UTC.
    assert paris_moment(date(2026, 10, 25), time(2, 30)) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("written", ["2026-05-12", "12/05/2026 10:00", "2026-05-12 25:00", ""])
def test_anything_but_a_date_and_a_time_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match="does not match|unconverted|out of range"):
        parse_start(written)
