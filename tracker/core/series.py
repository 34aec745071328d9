"""Regular date series placed on a participant's calendar, and catch-up over them.

A `Schedule` is what one rule says on one calendar from one date: "every
month from 2019-06-23, six times, at 09:30". A `Timeline` is the set of
schedules whose occurrences stand in for one another after downtime (every
check-in of a participant; every overdue reminder of one action), seen from
one moment `now`: it depends on no participant, so one pass builds it once
for all the participants who share a calendar and a date. A `Series` is one
participant's use of a timeline: only its latest due occurrence is ever
sent, and never one older than an occurrence already planned.

Everything here is pure and takes `now` as a parameter.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from tracker.core.calendar import local_moment, next_working_day
from tracker.core.model import ReminderKind


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(month_index, 12)
    next_month_first = date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    return date(year, month0 + 1, min(day.day, (next_month_first - timedelta(days=1)).day))


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot:
    """One occurrence of a schedule, placed on the calendar."""

    nominal: date  # the date the rule names; occurrence keys are built from it
    day: date  # the local date it is sent on, after any move to a working day
    moment: datetime  # the UTC instant of `day` at the rule's local time


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """How one participant's calendar turns a nominal date into a send moment."""

    zone: ZoneInfo
    country: str | None
    working_days_only: bool

    def slot(self, nominal: date, at: time) -> Slot:
        return _placed_slot(self, nominal, at)


@functools.lru_cache(maxsize=65_536)
def _placed_slot(placement: Placement, nominal: date, at: time) -> Slot:
    # Cached: a planning pass asks for the same few dates of the same rules
    # for every participant sharing a zone and country.
    day = next_working_day(nominal, placement.country) if placement.working_days_only else nominal
    return Slot(nominal=nominal, day=day, moment=local_moment(day, at, placement.zone))


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """`length` dates from `first`, `step_days` or `step_months` apart, each at `at`.

    Send moments never decrease with the index (moving to the next working
    day is monotonic, and the local time is fixed), and nominal dates always
    increase, which lets every lookup below be a binary search instead of a
    walk over the whole series.
    """

    first: date
    step_days: int = 0
    step_months: int = 0
    length: int
    at: time
    placement: Placement

    def nominal(self, index: int) -> date:
        # Always computed from `first` (never from the previous date) so that
        # a monthly series on the 31st comes back to the 31st after February.
        if self.step_months:
            return add_months(self.first, index * self.step_months)
        return self.first + timedelta(days=index * self.step_days)

    def slot(self, index: int) -> Slot:
        return self.placement.slot(self.nominal(index), self.at)

    def first_index_after(self, now: datetime) -> int:
        """The first index sent strictly after `now` (== length when none)."""
        return bisect.bisect_right(range(self.length), now, key=lambda i: self.slot(i).moment)

    def first_index_named_after(self, day: date) -> int:
        """The first index whose nominal date is after `day` (== length when none)."""
        return bisect.bisect_right(range(self.length), day, key=self.nominal)


@dataclass(frozen=True, slots=True, kw_only=True)
class Following:
    """A schedule's first occurrence sent after `now`."""

    schedule: Schedule
    slot: Slot


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    """Schedules that stand in for one another, seen from `now`; no participant's.

    From `expires_at` on, nothing in it is sent any more, however late (a
    before-due reminder once the due date is over). `latest` is the newest
    occurrence sent at or before `now` over all the schedules (by moment,
    then nominal date), None once expired; `following` holds each schedule's
    first occurrence sent after `now`, where there is one. `upcoming` and
    `first_firing` are what a series of this timeline with nothing planned
    yet answers (most series, at any moment): worked out once here for every
    participant.
    """

    expires_at: datetime | None
    latest: Slot | None
    following: tuple[Following, ...]
    upcoming: tuple[Slot, ...]
    first_firing: datetime | None

    @classmethod
    def at(
        cls, schedules: Sequence[Schedule], now: datetime, *, expires_at: datetime | None = None
    ) -> Timeline | None:
        """The timeline of `schedules` seen from `now` (one binary search per
        schedule); None when nothing in it can be sent at or after `now`."""
        latest: Slot | None = None
        following = []
        for schedule in schedules:
            index = schedule.first_index_after(now)
            if index > 0:
                slot = schedule.slot(index - 1)
                if latest is None or (slot.moment, slot.nominal) > (latest.moment, latest.nominal):
                    latest = slot
            if index < schedule.length:
                slot = schedule.slot(index)
                # From the expiry on nothing is sent, and later occurrences are later.
                if expires_at is None or slot.moment < expires_at:
                    following.append(Following(schedule=schedule, slot=slot))
        if expires_at is not None and now >= expires_at:
            latest = None
        if latest is None and not following:
            return None
        # Nothing planned: the latest is usable (it is before the expiry, or
        # None), and so is every following occurrence (kept only before it).
        upcoming = tuple(f.slot for f in following)
        return cls(
            expires_at=expires_at,
            latest=latest,
            following=tuple(following),
            upcoming=upcoming,
            first_firing=(latest.moment if latest is not None else min(s.moment for s in upcoming)),
        )


class Series(NamedTuple):
    """One participant's timeline, with what one occurrence becomes.

    `prefix` names the series in occurrence keys, `key_of` turns an
    occurrence's nominal date into its key. `planned_up_to` is the newest
    nominal date of this series already planned: it and everything older are
    done with. A series whose occurrences may not be sent whatever the date
    (a check-in with no open action; an overdue action already updated) is
    not built at all.

    A named tuple rather than a frozen dataclass: a busy pass builds about a
    dozen per due participant, and a tuple is immutable at a fraction of the
    cost (a frozen dataclass sets each field through `object.__setattr__`).
    """

    timeline: Timeline
    kind: ReminderKind
    prefix: str
    key_of: Callable[[date], str]
    action_id: int | None = None
    sort_date: date | None = None  # orders the items of a merged message
    planned_up_to: date | None = None

    def planned_to(self, day: date) -> Series:
        """This series once its occurrence of `day` is planned too."""
        if self.planned_up_to is not None and self.planned_up_to >= day:
            return self
        return self._replace(planned_up_to=day)

    def usable(self, slot: Slot) -> bool:
        expires_at = self.timeline.expires_at
        if expires_at is not None and slot.moment >= expires_at:
            return False
        return self.planned_up_to is None or slot.nominal > self.planned_up_to

    def due(self) -> Slot | None:
        """The occurrence to send at the timeline's `now`, if any.

        After downtime only the newest missed occurrence counts (the
        timeline's `latest`), older ones are silently superseded; it is sent
        only if it is usable: not expired, and newer than anything already
        planned in the series.
        """
        latest = self.timeline.latest
        return latest if latest is not None and self.usable(latest) else None

    def upcoming(self) -> Sequence[Slot]:
        """Each schedule's first usable occurrence sent after `now`."""
        if self.planned_up_to is None:
            return self.timeline.upcoming
        found: list[Slot] = []
        for following in self.timeline.following:
            slot = following.slot
            if self.planned_up_to is not None and slot.nominal <= self.planned_up_to:
                # Nominal dates increase with the index: skip to the first one
                # past what is planned (later ones are only later).
                index = following.schedule.first_index_named_after(self.planned_up_to)
                if index >= following.schedule.length:
                    continue
                slot = following.schedule.slot(index)
            if self.usable(slot):
                # Later occurrences of the schedule are only later (or as
                # stale), so the first usable one is all the caller needs.
                found.append(slot)
        return found

    def first_firing(self) -> datetime | None:
        """The earliest moment at or after which this series has something to send."""
        if self.planned_up_to is None:
            return self.timeline.first_firing
        current = self.due()
        if current is not None:
            return current.moment
        return min((slot.moment for slot in self.upcoming()), default=None)
