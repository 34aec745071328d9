"""One participant's reminder series under one rule set (used by `tracker.core.rules`).

This module turns the `follow_up` rules and a participant's facts into
`Series` (see `tracker.core.series`) and finds their pending escalation;
`tracker.core.rules` turns what is due into messages. The key formats are
documented there; they are built and read back here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.core.calendar import local_moment
from tracker.core.facts import MAX_OCCURRENCES, ActionFacts, ParticipantFacts, Period, Rule
from tracker.core.model import ReminderKind, RuleKind
from tracker.core.obsolete import last_reply_at
from tracker.core.series import Placement, Schedule, Series, Slot, add_months

# Dates past this are never planned, so date arithmetic cannot overflow.
HORIZON = date(9000, 12, 31)

PARTICIPANT_KINDS = frozenset(
    {ReminderKind.CHECK_IN, ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingEscalation:
    key: str
    moment: datetime  # UTC; may still be in the future


class ParticipantPlan:
    """The series and escalation state of one participant under one rule set."""

    def __init__(self, rules: Sequence[Rule], participant: ParticipantFacts) -> None:
        self.rules = rules
        self.participant = participant
        self.zone = ZoneInfo(participant.timezone)
        self.placement = Placement(
            zone=self.zone,
            country=participant.country,
            working_days_only=participant.working_days_only,
        )
        planned = _newest_planned(participant.planned_keys)
        self.series = self._check_in_series(planned) + self._action_series(planned)

    def _check_in_series(self, planned: dict[str, date]) -> list[Series]:
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
            # Unbounded series run to the participant's last due date: past it
            # every action is due, and the overdue rule does the chasing.
            bound = HORIZON if rule.count is not None else last_due
            length = _count_until(schedule, bound, cap=rule.count or MAX_OCCURRENCES)
            schedules.append(dataclasses.replace(schedule, length=length))
        if not schedules:
            return []
        return [
            Series(
                schedules=tuple(schedules),
                kind=ReminderKind.CHECK_IN,
                key_of=lambda day: f"check_in:p{pid}:{day.isoformat()}",
                active=any(a.status.is_open for a in actions),
                planned_up_to=planned.get(f"check_in:p{pid}"),
            )
        ]

    def _action_series(self, planned: dict[str, date]) -> list[Series]:
        found: list[Series] = []
        for action in self.participant.actions:
            if not action.status.is_open:
                continue
            found.extend(self._before_due_series(action, planned))
            found.extend(self._overdue_series(action, planned))
        return found

    def _before_due_series(self, action: ActionFacts, planned: dict[str, date]) -> list[Series]:
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
            Series(
                schedules=schedules,
                kind=ReminderKind.BEFORE_DUE,
                key_of=lambda day: f"{prefix}:{(due - day).days}d",
                action_id=action.action_id,
                sort_date=due,
                # Asking "due in N days" once the due date is over is wrong;
                # from then on the overdue rule speaks.
                expires_at=local_moment(due + timedelta(days=1), time(0), self.zone),
                planned_up_to=planned.get(prefix),
            )
        ]

    def _overdue_series(self, action: ActionFacts, planned: dict[str, date]) -> list[Series]:
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
        # "No update since it fell due": an update from the start of the due
        # date (local) on stops the series; one before it does not.
        fell_due = local_moment(action.due, time(0), self.zone)
        updated = action.last_update_at is not None and action.last_update_at >= fell_due
        return [
            Series(
                schedules=tuple(
                    dataclasses.replace(s, length=_count_until(s, HORIZON, cap=s.length))
                    for s in schedules
                ),
                kind=ReminderKind.OVERDUE,
                key_of=lambda day: f"{prefix}:{day.isoformat()}",
                action_id=action.action_id,
                sort_date=action.due,
                active=not updated,
                planned_up_to=planned.get(prefix),
            )
        ]

    def due_slots(self, now: datetime) -> list[tuple[Series, Slot]]:
        """Each series' occurrence to send at `now` (see `Series.due`)."""
        return [(s, slot) for s in self.series if (slot := s.due(now)) is not None]

    def held_until(self, now: datetime) -> datetime | None:
        """The latest moment of a reminder still to come today, if any.

        While there is one, the reminders already due wait for it, so that
        one local day's reminders leave as one message.
        """
        today = now.astimezone(self.zone).date()
        later_today = [
            slot.moment for s in self.series for slot in s.upcoming(now) if slot.day == today
        ]
        return max(later_today, default=None)

    def pending_escalation(self) -> PendingEscalation | None:
        """The escalation not yet planned (whether due yet or not), if any.

        1. The last reply is the latest of `last_reply_at`, any action update
           and the sending of any reminder marked answered.
        2. The unanswered run is the participant reminders sent after it.
        3. For each escalate rule the run reaches (at least
           `after_unanswered` long), the moment is the rule's `at` on the
           local day after the reminder that completed the run; the earliest
           counts. The key names the run's first reminder, so one run
           escalates once, and only a reply can start another.
        """
        p = self.participant
        last_reply = last_reply_at(p)
        run = sorted(
            (
                r
                for r in p.sent
                if r.kind in PARTICIPANT_KINDS and (last_reply is None or r.sent_at > last_reply)
            ),
            key=lambda r: (r.sent_at, r.reminder_id),
        )
        moments = []
        for rule in self.rules:
            needed = rule.after_unanswered
            if rule.kind is not RuleKind.ESCALATE or needed is None or len(run) < needed:
                continue
            completed_on = run[needed - 1].sent_at.astimezone(self.zone).date()
            moments.append(self.placement.slot(completed_on + timedelta(days=1), rule.send_time))
        if not moments:
            return None
        key = f"escalate:p{p.participant_id}:r{run[0].reminder_id}"
        if key in p.planned_keys:
            return None
        return PendingEscalation(key=key, moment=min(slot.moment for slot in moments))


def _steps(every: Period) -> tuple[int, int]:
    """(days, months) between two dates of a check-in series."""
    if every.unit == "month":
        return 0, every.count
    return (every.count * 7 if every.unit == "week" else every.count), 0


def _count_until(schedule: Schedule, last: date | None, *, cap: int) -> int:
    """How many of the schedule's nominal dates fall on or before `last` (at most `cap`)."""
    if last is None or schedule.first > last:
        return 0
    if schedule.step_months:
        months = (last.year - schedule.first.year) * 12 + last.month - schedule.first.month
        index = months // schedule.step_months
        if add_months(schedule.first, index * schedule.step_months) > last:
            index -= 1
        return min(cap, index + 1)
    return min(cap, (last - schedule.first).days // schedule.step_days + 1)


def _newest_planned(keys: frozenset[str]) -> dict[str, date]:
    """The newest nominal date already planned, per series prefix.

    Keys that are not ours (or are malformed) cannot supersede anything and
    are skipped.
    """
    newest: dict[str, date] = {}
    for key in keys:
        parts = key.split(":")
        try:
            if parts[0] == "check_in" and len(parts) == 3:
                prefix, day = ":".join(parts[:2]), date.fromisoformat(parts[2])
            elif parts[0] == "before_due" and len(parts) == 4 and parts[3].endswith("d"):
                due = date.fromisoformat(parts[2])
                prefix, day = ":".join(parts[:3]), due - timedelta(days=int(parts[3][:-1]))
            elif parts[0] == "overdue" and len(parts) == 4:
                prefix, day = ":".join(parts[:3]), date.fromisoformat(parts[3])
            else:
                continue
        except (ValueError, OverflowError):
            continue
        if prefix not in newest or day > newest[prefix]:
            newest[prefix] = day
    return newest
