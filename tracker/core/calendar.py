"""Working days and local send moments for the reminder planner.

Two questions the planner asks about a participant's calendar, answered
without I/O:

- Is a local date a working day in their country?  Weekends and public
  holidays come from the `holidays` package. Official make-up working days
  that fall on a weekend (China's 调休, e.g. Sunday 2019-09-29 and Saturday
  2019-10-12 around the National Day week) count as working days: the package
  records them in `HolidayBase.weekend_workdays` and `is_working_day()`
  honours them, so no table of our own is kept. The package carries China's
  make-up days for the years the State Council has announced (through 2026
  in holidays 0.109); later years get their statutory holidays but no make-up
  days until the package is upgraded.
- Which UTC instant is a local date at a local wall-clock time?  A wall time
  that does not exist (the spring-forward gap) moves forward by the gap; one
  that exists twice (the autumn fold) is its first occurrence.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

# Saturday and Sunday: the weekend when no country (or an unknown one) is given.
_PLAIN_WEEKEND = frozenset({5, 6})

# The longest run of non-working days we believe in. China's Spring Festival
# plus adjoining weekends stays under ten; anything past this is a broken
# calendar, and the reminder keeps its own date rather than vanishing.
_MAX_SHIFT_DAYS = 60


def supports_country(country: str) -> bool:
    """Whether the holiday data knows this ISO 3166 alpha-2 code (for import checks)."""
    return country.upper() in holidays.list_supported_countries(include_aliases=True)


def _days_of_year(year: int) -> list[date]:
    first = date(year, 1, 1)
    length = (date(year, 12, 31) - first).days + 1
    return [first + timedelta(days=n) for n in range(length)]


@functools.lru_cache(maxsize=512)
def _days_off(country: str | None, year: int) -> frozenset[date]:
    """Every non-working day of `year` for `country` (None: Saturdays and Sundays).

    Cached per (country, year) because building a holiday calendar is far
    slower than the planning it serves, and the answer never changes within
    one version of the holiday data.
    """
    days = _days_of_year(year)
    if country is None:
        return frozenset(day for day in days if day.weekday() in _PLAIN_WEEKEND)
    try:
        # Neighbouring years are loaded too: a make-up working day can be
        # announced in the notice of the following year (late December ones).
        country_calendar = holidays.country_holidays(country, years=(year - 1, year, year + 1))
    except NotImplementedError:
        # An unknown code must not stop a planning pass for everyone; the
        # importer rejects unknown codes (see `supports_country`).
        return _days_off(None, year)
    return frozenset(day for day in days if not country_calendar.is_working_day(day))


def is_working_day(day: date, country: str | None) -> bool:
    """Whether `day` is a working day in `country` (ISO 3166 alpha-2, any case)."""
    return day not in _days_off(country.upper() if country else None, day.year)


def next_working_day(day: date, country: str | None) -> date:
    """The first working day on or after `day`."""
    candidate = day
    for _ in range(_MAX_SHIFT_DAYS):
        if is_working_day(candidate, country):
            return candidate
        if candidate == date.max:
            break
        candidate += timedelta(days=1)
    return day


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone`.

    `fold=0` gives exactly the behaviour we promise: for a time in the spring
    gap, zoneinfo applies the offset in force *before* the transition, which
    lands the same distance *after* it (02:30 in New York on 2019-03-10 is
    03:30 EDT); for an ambiguous autumn time it picks the first occurrence.
    """
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    return wall.astimezone(UTC)


def public_holidays(
    country: str | None, first: date, last: date, *, language: str | None = None
) -> list[tuple[date, str]]:
    """The public holidays of `country` from `first` to `last`, with their names.

    Names are in `language` (like "zh_CN") where the holiday data has it, else
    in American English where it has that (a reader of Chinese is likelier to
    read English than German), else in the data's default language. No
    country: none.
    """
    if country is None or last < first:
        return []
    years = range(first.year, last.year + 1)
    spoken = holidays.list_localized_countries().get(country.upper(), [])
    if language is not None and language not in spoken:
        language = "en_US" if "en_US" in spoken else None
    try:
        calendar = holidays.country_holidays(country.upper(), years=years, language=language)
    except NotImplementedError:
        return []
    return sorted((day, name) for day, name in calendar.items() if first <= day <= last)
