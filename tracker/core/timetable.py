"""A rule set seen from one moment: the series every participant of a pass draws on.

What the rules say on a calendar from a date does not depend on who it is
for: every participant in Beijing with an action due on 2019-09-30 has the
same before-due and overdue timelines at a given `now`. A `Timetable` builds
each such timeline the first time a participant needs it and shares it with
the rest of the pass, so a busy tick pays for each (calendar, date) once,
not once per participant (see `tracker.core.series`). `Timetable.plan`
then adds what is the participant's own: which actions are open, what is
already planned, their keys (formats in `tracker.core.rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.core.calendar import local_moment
from tracker.core.facts import MAX_OCCURRENCES, ActionFacts, ParticipantFacts, Period, Rule
from tracker.core.model import ReminderKind, RuleKind
from tracker.core.participant_plan import ParticipantPlan, newest_planned, pending_escalation
from tracker.core.series import Placement, Schedule, Series, Timeline, add_months

# Dates past this are never planned, so date arithmetic cannot overflow.
HORIZON = date(9000, 12, 31)

CalendarKey = tuple[str, str | None, bool]  # time zone, country, working days only


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionTimelines:
    """The timelines of an action due on one date, on one calendar (None: nothing
    left to send, or no rule of that kind)."""

    before_due: Timeline | None
    overdue: Timeline | None
    fell_due: datetime | None  # the start of the due date, local; None without `overdue`


class _Calendar:
    """One calendar's timelines at the timetable's `now`, built as they are asked for."""

    def __init__(self, key: CalendarKey) -> None:
        timezone, country, working_days_only = key
        self.zone = ZoneInfo(timezone)
        self.placement = Placement(
            zone=self.zone, country=country, working_days_only=working_days_only
        )
        self.check_ins: dict[date | None, Timeline | None] = {}
        self.actions: dict[date, ActionTimelines] = {}


class Timetable:
    """The series of one rule set at one moment `now`, shared by every participant asked about."""

    def __init__(self, rules: Sequence[Rule], now: datetime) -> None:
        self.rules = tuple(rules)
        self.now = now
        # Each kind's rules as the numbers its schedules are made of.
        self._check_ins = [
            (r.first, *_steps(r.every), r.count, r.send_time)
            for r in rules
            if r.kind is RuleKind.CHECK_IN and r.every is not None and r.first is not None
        ]
        self._before_dues = [
            (r.days, r.send_time)
            for r in rules
            if r.kind is RuleKind.BEFORE_DUE and r.days is not None
        ]
        self._overdues = [
            (r.every_days, r.max, r.send_time)
            for r in rules
            if r.kind is RuleKind.OVERDUE and r.every_days is not None and r.max is not None
        ]
        self._calendars: dict[CalendarKey, _Calendar] = {}

    def plan(self, participant: ParticipantFacts) -> ParticipantPlan:
        """The participant's series and pending escalation at `now`."""
        key = (participant.timezone, participant.country, participant.working_days_only)
        calendar = self._calendars.get(key)
        if calendar is None:
            calendar = self._calendars[key] = _Calendar(key)
        planned = newest_planned(participant.planned_keys)
        series = self._check_in_series(calendar, participant, planned)
        for action in participant.actions:
            if action.status.is_open:
                series.extend(self._action_series(calendar, action, planned))
        return ParticipantPlan(
            participant=participant,
            now=self.now,
            zone=calendar.zone,
            series=tuple(series),
            escalation=pending_escalation(self.rules, participant, calendar.placement),
        )

    def _check_in_series(
        self, calendar: _Calendar, participant: ParticipantFacts, planned: dict[str, date]
    ) -> list[Series]:
        actions = participant.actions
        if not self._check_ins or not any(a.status.is_open for a in actions):
            return []
        last_due = max((a.due for a in actions), default=None)
        if last_due in calendar.check_ins:
            timeline = calendar.check_ins[last_due]
        else:
            timeline = calendar.check_ins[last_due] = self._check_in_timeline(calendar, last_due)
        if timeline is None:
            return []
        prefix = f"check_in:p{participant.participant_id}"
        return [
            Series(
                timeline=timeline,
                kind=ReminderKind.CHECK_IN,
                prefix=prefix,
                key_of=lambda day: f"{prefix}:{day.isoformat()}",
                planned_up_to=planned.get(prefix),
            )
        ]

    def _check_in_timeline(self, calendar: _Calendar, last_due: date | None) -> Timeline | None:
        schedules = []
        for first, step_days, step_months, count, at in self._check_ins:
            # Unbounded series run to the participant's last due date: past it
            # every action is due, and the overdue rule does the chasing.
            bound = HORIZON if count is not None else last_due
            length = _count_until(
                first, step_days, step_months, bound, cap=count or MAX_OCCURRENCES
            )
            if length:
                schedules.append(
                    Schedule(
                        first=first,
                        step_days=step_days,
                        step_months=step_months,
                        length=length,
                        at=at,
                        placement=calendar.placement,
                    )
                )
        return Timeline.at(schedules, self.now)

    def _action_series(
        self, calendar: _Calendar, action: ActionFacts, planned: dict[str, date]
    ) -> list[Series]:
        due = action.due
        timelines = calendar.actions.get(due)
        if timelines is None:
            timelines = calendar.actions[due] = self._action_timelines(calendar, due)
        found = []
        named = f"a{action.action_id}:{due.isoformat()}"  # the action in both prefixes
        if timelines.before_due is not None:
            prefix = f"before_due:{named}"
            found.append(
                Series(
                    timeline=timelines.before_due,
                    kind=ReminderKind.BEFORE_DUE,
                    prefix=prefix,
                    key_of=lambda day: f"{prefix}:{(due - day).days}d",
                    action_id=action.action_id,
                    sort_date=due,
                    planned_up_to=planned.get(prefix),
                )
            )
        # "No update since it fell due": an update from the start of the due
        # date (local) on stops the series; one before it does not.
        updated = (
            timelines.fell_due is not None
            and action.last_update_at is not None
            and action.last_update_at >= timelines.fell_due
        )
        if timelines.overdue is not None and not updated:
            overdue_prefix = f"overdue:{named}"
            found.append(
                Series(
                    timeline=timelines.overdue,
                    kind=ReminderKind.OVERDUE,
                    prefix=overdue_prefix,
                    key_of=lambda day: f"{overdue_prefix}:{day.isoformat()}",
                    action_id=action.action_id,
                    sort_date=due,
                    planned_up_to=planned.get(overdue_prefix),
                )
            )
        return found

    def _action_timelines(self, calendar: _Calendar, due: date) -> ActionTimelines:
        before_due = None
        if due <= HORIZON:
            schedules = [
                Schedule(
                    first=due - timedelta(days=days),
                    length=1,
                    at=at,
                    placement=calendar.placement,
                )
                for days, at in self._before_dues
                if days <= (due - date.min).days
            ]
            if schedules:
                # Asking "due in N days" once the due date is over is wrong;
                # from then on the overdue rule speaks.
                expires_at = local_moment(due + timedelta(days=1), time(0), calendar.zone)
                before_due = Timeline.at(schedules, self.now, expires_at=expires_at)
        overdue = fell_due = None
        if due < HORIZON and self._overdues:
            schedules = []
            for every_days, most, at in self._overdues:
                first = due + timedelta(days=every_days)
                length = _count_until(first, every_days, 0, HORIZON, cap=most)
                if length:
                    schedules.append(
                        Schedule(
                            first=first,
                            step_days=every_days,
                            length=length,
                            at=at,
                            placement=calendar.placement,
                        )
                    )
            overdue = Timeline.at(schedules, self.now)
            if overdue is not None:
                fell_due = local_moment(due, time(0), calendar.zone)
        return ActionTimelines(before_due=before_due, overdue=overdue, fell_due=fell_due)


def _steps(every: Period) -> tuple[int, int]:
    """(days, months) between two dates of a check-in series."""
    if every.unit == "month":
        return 0, every.count
    return (every.count * 7 if every.unit == "week" else every.count), 0


def _count_until(
    first: date, step_days: int, step_months: int, last: date | None, *, cap: int
) -> int:
    """How many dates from `first`, steps apart, fall on or before `last` (at most `cap`)."""
    if last is None or first > last:
        return 0
    if step_months:
        months = (last.year - first.year) * 12 + last.month - first.month
        index = months // step_months
        if add_months(first, index * step_months) > last:
            index -= 1
        return min(cap, index + 1)
    return min(cap, (last - first).days // step_days + 1)
