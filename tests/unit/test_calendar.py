"""Working days (weekends, public holidays, make-up working days) and local moments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tracker.core.calendar import is_working_day, local_moment, next_working_day, supports_country

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Before the 2019 National Day week: Saturday off, Sunday a make-up working day.
        (date(2019, 9, 27), True),
        (date(2019, 9, 28), False),
        (date(2019, 9, 29), True),  # Sunday, 调休 working day
        (date(2019, 9, 30), True),
        # The Golden Week, Oct 1-7, all off (weekdays and weekend alike).
        (date(2019, 10, 1), False),
        (date(2019, 10, 2), False),
        (date(2019, 10, 3), False),
        (date(2019, 10, 4), False),
        (date(2019, 10, 5), False),
        (date(2019, 10, 6), False),
        (date(2019, 10, 7), False),
        (date(2019, 10, 8), True),
        (date(2019, 10, 11), True),
        (date(2019, 10, 12), True),  # Saturday, 调休 working day
        (date(2019, 10, 13), False),  # an ordinary Sunday again
        # Spring Festival 2019: Feb 4-10 off, Sat Feb 2 and Sun Feb 3 worked.
        (date(2019, 2, 2), True),
        (date(2019, 2, 3), True),
        (date(2019, 2, 5), False),
        (date(2019, 2, 10), False),
        (date(2019, 2, 11), True),
        # Labour Day 2019: May 1-4 off, Sun Apr 28 and Sun May 5 worked.
        (date(2019, 4, 28), True),
        (date(2019, 5, 1), False),
        (date(2019, 5, 4), False),
        (date(2019, 5, 5), True),
    ],
)
def test_china_2019_holidays_and_make_up_working_days(day: date, working: bool) -> None:
    assert is_working_day(day, "CN") is working


def test_country_codes_are_read_in_any_case() -> None:
    assert is_working_day(date(2019, 9, 29), "cn")
    assert not is_working_day(date(2019, 10, 1), "cn")


@pytest.mark.parametrize(
    ("country", "day", "working"),
    [
        (None, date(2019, 12, 25), True),  # no country: only weekends are off
        (None, date(2019, 12, 28), False),
        ("GB", date(2019, 12, 25), False),
        ("GB", date(2019, 12, 26), False),
        ("GB", date(2019, 12, 27), True),
        ("US", date(2019, 7, 4), False),
        ("US", date(2019, 7, 5), True),
        ("XX", date(2019, 7, 4), True),  # unknown code: weekends only, never a crash
        ("XX", date(2019, 7, 6), False),
    ],
)
def test_weekends_and_public_holidays_by_country(
    country: str | None, day: date, working: bool
) -> None:
    assert is_working_day(day, country) is working


@pytest.mark.parametrize(
    ("country", "day", "expected"),
    [
        ("CN", date(2019, 9, 28), date(2019, 9, 29)),  # Saturday -> the make-up Sunday
        ("CN", date(2019, 10, 1), date(2019, 10, 8)),
        ("CN", date(2019, 10, 7), date(2019, 10, 8)),
        ("CN", date(2019, 10, 12), date(2019, 10, 12)),  # already a working day
        ("CN", date(2019, 10, 13), date(2019, 10, 14)),
        ("CN", date(2019, 2, 4), date(2019, 2, 11)),
        (None, date(2019, 6, 22), date(2019, 6, 24)),
        ("GB", date(2019, 12, 25), date(2019, 12, 27)),
        # Nationwide holidays only: Easter Monday is not one in Scotland, so
        # the UK-wide calendar (no subdivision) works on it.
        ("GB", date(2019, 4, 19), date(2019, 4, 22)),
    ],
)
def test_next_working_day(country: str | None, day: date, expected: date) -> None:
    assert next_working_day(day, country) == expected


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected_utc"),
    [
        # An ordinary day either side of the US spring change.
        (NEW_YORK, date(2019, 3, 9), time(9, 30), datetime(2019, 3, 9, 14, 30, tzinfo=UTC)),
        (NEW_YORK, date(2019, 3, 11), time(9, 30), datetime(2019, 3, 11, 13, 30, tzinfo=UTC)),
        # 02:30 does not exist on 2019-03-10: it moves forward to 03:30 EDT.
        (NEW_YORK, date(2019, 3, 10), time(2, 30), datetime(2019, 3, 10, 7, 30, tzinfo=UTC)),
        (NEW_YORK, date(2019, 3, 10), time(3, 0), datetime(2019, 3, 10, 7, 0, tzinfo=UTC)),
        # 01:30 happens twice on 2019-11-03: the first (EDT) one counts.
        (NEW_YORK, date(2019, 11, 3), time(1, 30), datetime(2019, 11, 3, 5, 30, tzinfo=UTC)),
        (NEW_YORK, date(2019, 11, 3), time(9, 30), datetime(2019, 11, 3, 14, 30, tzinfo=UTC)),
        # London: 01:30 does not exist on 2019-03-31; 01:30 is twice on 2019-10-27.
        (LONDON, date(2019, 3, 31), time(1, 30), datetime(2019, 3, 31, 1, 30, tzinfo=UTC)),
        (LONDON, date(2019, 3, 31), time(9, 0), datetime(2019, 3, 31, 8, 0, tzinfo=UTC)),
        (LONDON, date(2019, 10, 27), time(1, 30), datetime(2019, 10, 27, 0, 30, tzinfo=UTC)),
        (LONDON, date(2019, 10, 27), time(9, 0), datetime(2019, 10, 27, 9, 0, tzinfo=UTC)),
        (SHANGHAI, date(2019, 6, 24), time(9, 30), datetime(2019, 6, 24, 1, 30, tzinfo=UTC)),
    ],
)
def test_local_moment_across_daylight_saving_changes(
    zone: ZoneInfo, day: date, at: time, expected_utc: datetime
) -> None:
    moment = local_moment(day, at, zone)
    assert moment == expected_utc
    assert moment.tzinfo is UTC


def test_a_time_in_the_spring_gap_is_never_sent_early() -> None:
    wall = local_moment(date(2019, 3, 10), time(2, 30), NEW_YORK).astimezone(NEW_YORK)
    assert wall.date() == date(2019, 3, 10)
    assert wall.time() >= time(2, 30)


def test_supported_countries() -> None:
    assert supports_country("CN")
    assert supports_country("gb")
    assert not supports_country("XX")
