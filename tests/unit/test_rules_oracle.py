"""The planner as it was before timetables, kept as the oracle of `test_rules_timetable`
(this module holds no tests).

It builds every series afresh for each participant and each question, walks
them at `now`, and rebuilds the whole plan for `next_due`: slow, but plainly
what the module docstring of `tracker.core.rules` says. Only the unchanged
leaves (a `Schedule`'s dates and slots, the calendar, reading planned keys
and the escalation) are shared with the planner under test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.core.calendar import local_moment
from tracker.core.facts import (
    MAX_OCCURRENCES,
    ActionFacts,
    ParticipantFacts,
    Period,
    PlannedItem,
    PlannedMessage,
    Rule,
)
from tracker.core.model import ReminderKind, RuleKind
from tracker.core.participant_plan import newest_planned, pending_escalation
from tracker.core.series import Placement, Schedule, Slot, add_months

HORIZON = date(9000, 12, 31)
_PRIORITY = {ReminderKind.OVERDUE: 0, ReminderKind.BEFORE_DUE: 1, ReminderKind.CHECK_IN: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class OldSeries:
    schedules: tuple[Schedule, ...]
    kind: ReminderKind
    key_of: Callable[[date], str]
    action_id: int | None = None
    sort_date: date | None = None
    active: bool = True
    expires_at: datetime | None = None
    planned_up_to: date | None = None

    def usable(self, slot: Slot) -> bool:
        if not self.active:
            return False
        if self.expires_at is not None and slot.moment >= self.expires_at:
            return False
        return self.planned_up_to is None or slot.nominal > self.planned_up_to

    def due(self, now: datetime) -> Slot | None:
        if self.expires_at is not None and now >= self.expires_at:
            return None
        latest: Slot | None = None
        for schedule in self.schedules:
            index = schedule.first_index_after(now) - 1
            if index < 0:
                continue
            slot = schedule.slot(index)
            if latest is None or (slot.moment, slot.nominal) > (latest.moment, latest.nominal):
                latest = slot
        return latest if latest is not None and self.usable(latest) else None

    def upcoming(self, now: datetime) -> list[Slot]:
        if not self.active:
            return []
        found: list[Slot] = []
        for schedule in self.schedules:
            index = schedule.first_index_after(now)
            if self.planned_up_to is not None:
                index = max(index, schedule.first_index_named_after(self.planned_up_to))
            if index < schedule.length and self.usable(slot := schedule.slot(index)):
                found.append(slot)
        return found

    def first_firing(self, now: datetime) -> datetime | None:
        current = self.due(now)
        if current is not None:
            return current.moment
        return min((slot.moment for slot in self.upcoming(now)), default=None)


class OldPlan:
    def __init__(self, rules: Sequence[Rule], participant: ParticipantFacts) -> None:
        self.rules = rules
        self.participant = participant
        self.zone = ZoneInfo(participant.timezone)
        self.placement = Placement(
            zone=self.zone,
            country=participant.country,
            working_days_only=participant.working_days_only,
        )
        planned = newest_planned(participant.planned_keys)
        self.series = self._check_in_series(planned)
        for action in participant.actions:
            if action.status.is_open:
                self.series += self._before_due_series(action, planned)
                self.series += self._overdue_series(action, planned)

    def _check_in_series(self, planned: dict[str, date]) -> list[OldSeries]:
        pid = self.participant.participant_id
        actions = self.participant.actions
        last_due = max((a.due for a in actions), default=None)
        schedules = []
        for rule in self.rules:
            if rule.kind is not RuleKind.CHECK_IN or rule.every is None or rule.first is None:
                continue
            step_days, step_months = _steps(rule.every)
            schedule = Schedule(
                first=rule.first,
                step_days=step_days,
                step_months=step_months,
                length=0,
                at=rule.send_time,
                placement=self.placement,
            )
            bound = HORIZON if rule.count is not None else last_due
            length = _count_until(schedule, bound, cap=rule.count or MAX_OCCURRENCES)
            schedules.append(replace(schedule, length=length))
        if not schedules:
            return []
        return [
            OldSeries(
                schedules=tuple(schedules),
                kind=ReminderKind.CHECK_IN,
                key_of=lambda day: f"check_in:p{pid}:{day.isoformat()}",
                active=any(a.status.is_open for a in actions),
                planned_up_to=planned.get(f"check_in:p{pid}"),
            )
        ]

    def _before_due_series(self, action: ActionFacts, planned: dict[str, date]) -> list[OldSeries]:
        due = action.due
        schedules = tuple(
            Schedule(
                first=due - timedelta(days=r.days),
                length=1,
                at=r.send_time,
                placement=self.placement,
            )
            for r in self.rules
            if r.kind is RuleKind.BEFORE_DUE
            and r.days is not None
            and r.days <= (due - date.min).days
            and due <= HORIZON
        )
        if not schedules:
            return []
        prefix = f"before_due:a{action.action_id}:{due.isoformat()}"
        return [
            OldSeries(
                schedules=schedules,
                kind=ReminderKind.BEFORE_DUE,
                key_of=lambda day: f"{prefix}:{(due - day).days}d",
                action_id=action.action_id,
                sort_date=due,
                expires_at=local_moment(due + timedelta(days=1), time(0), self.zone),
                planned_up_to=planned.get(prefix),
            )
        ]

    def _overdue_series(self, action: ActionFacts, planned: dict[str, date]) -> list[OldSeries]:
        schedules = tuple(
            Schedule(
                first=action.due + timedelta(days=r.every_days),
                step_days=r.every_days,
                length=r.max,
                at=r.send_time,
                placement=self.placement,
            )
            for r in self.rules
            if r.kind is RuleKind.OVERDUE
            and r.every_days is not None
            and r.max is not None
            and action.due < HORIZON
        )
        if not schedules:
            return []
        prefix = f"overdue:a{action.action_id}:{action.due.isoformat()}"
        fell_due = local_moment(action.due, time(0), self.zone)
        updated = action.last_update_at is not None and action.last_update_at >= fell_due
        return [
            OldSeries(
                schedules=tuple(
                    replace(s, length=_count_until(s, HORIZON, cap=s.length)) for s in schedules
                ),
                kind=ReminderKind.OVERDUE,
                key_of=lambda day: f"{prefix}:{day.isoformat()}",
                action_id=action.action_id,
                sort_date=action.due,
                active=not updated,
                planned_up_to=planned.get(prefix),
            )
        ]

    def held_until(self, now: datetime) -> datetime | None:
        today = now.astimezone(self.zone).date()
        later_today = [
            slot.moment for s in self.series for slot in s.upcoming(now) if slot.day == today
        ]
        return max(later_today, default=None)


def old_due_reminders(
    rules: Sequence[Rule], participants: Iterable[ParticipantFacts], *, now: datetime
) -> list[PlannedMessage]:
    messages: list[PlannedMessage] = []
    for participant in participants:
        if not participant.state.receives_reminders:
            continue
        plan = OldPlan(rules, participant)
        due = [(s, slot) for s in plan.series if (slot := s.due(now)) is not None]
        if due and plan.held_until(now) is None:
            items = tuple(
                PlannedItem(key=s.key_of(slot.nominal), kind=s.kind, action_id=s.action_id)
                for s, slot in sorted(
                    due,
                    key=lambda pair: (
                        _PRIORITY[pair[0].kind],
                        pair[0].sort_date or date.min,
                        pair[0].action_id or 0,
                        pair[1].nominal,
                    ),
                )
            )
            scheduled_at = max(slot.moment for _, slot in due)
            messages.append(
                PlannedMessage(
                    key="msg:" + min(item.key for item in items),
                    participant_id=participant.participant_id,
                    audience="participant",
                    kind=items[0].kind,
                    local_date=scheduled_at.astimezone(plan.zone).date(),
                    scheduled_at=scheduled_at,
                    items=items,
                )
            )
        pending = pending_escalation(rules, participant, plan.placement)
        if pending is not None and pending.moment <= now:
            messages.append(
                PlannedMessage(
                    key=f"msg:{pending.key}",
                    participant_id=participant.participant_id,
                    audience="coordinators",
                    kind=ReminderKind.ESCALATION,
                    local_date=pending.moment.astimezone(plan.zone).date(),
                    scheduled_at=pending.moment,
                    items=(PlannedItem(key=pending.key, kind=ReminderKind.ESCALATION),),
                )
            )
    messages.sort(key=lambda m: (m.scheduled_at, m.participant_id, m.audience))
    return messages


def old_next_due(
    rules: Sequence[Rule], participant: ParticipantFacts, *, now: datetime
) -> datetime | None:
    if not participant.state.receives_reminders:
        return None
    plan = OldPlan(rules, participant)
    firings = [m for s in plan.series if (m := s.first_firing(now)) is not None]
    first = min(firings, default=None)
    if first is not None and first <= now:
        first = plan.held_until(now) or first
    escalation = pending_escalation(rules, participant, plan.placement)
    if escalation is not None and (first is None or escalation.moment < first):
        first = escalation.moment
    return first


def _steps(every: Period) -> tuple[int, int]:
    if every.unit == "month":
        return 0, every.count
    return (every.count * 7 if every.unit == "week" else every.count), 0


def _count_until(schedule: Schedule, last: date | None, *, cap: int) -> int:
    if last is None or schedule.first > last:
        return 0
    if schedule.step_months:
        months = (last.year - schedule.first.year) * 12 + last.month - schedule.first.month
        index = months // schedule.step_months
        if add_months(schedule.first, index * schedule.step_months) > last:
            index -= 1
        return min(cap, index + 1)
    return min(cap, (last - schedule.first).days // schedule.step_days + 1)
