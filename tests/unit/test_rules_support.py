"""Builders and a tick simulator shared by the planner's tests (this module holds no tests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.core.model import ActionStatus, ParticipantState, ReminderKind, RuleKind
from tracker.core.rules import (
    ActionFacts,
    ParticipantFacts,
    Period,
    PeriodUnit,
    PlannedMessage,
    Rule,
    SentReminder,
    due_reminders,
    next_due,
)

BERLIN = "Europe/Berlin"
SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"
LONDON = "Europe/London"

PID = 12


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware instant given as a wall-clock time in `zone` (first one when ambiguous)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def check_in(
    every: str = "1 month",
    first: date = date(2019, 6, 23),
    count: int | None = 6,
    at: time | None = time(9, 30),
) -> Rule:
    amount, unit = every.split()
    unit_name: PeriodUnit = "day" if unit.startswith("day") else "week"
    if unit.startswith("month"):
        unit_name = "month"
    return Rule(
        kind=RuleKind.CHECK_IN,
        every=Period(count=int(amount), unit=unit_name),
        first=first,
        count=count,
        at=at,
    )


def before_due(days: int = 7, at: time | None = time(9, 30)) -> Rule:
    return Rule(kind=RuleKind.BEFORE_DUE, days=days, at=at)


def overdue(every_days: int = 7, max_times: int = 3, at: time | None = time(9, 30)) -> Rule:
    return Rule(kind=RuleKind.OVERDUE, every_days=every_days, max=max_times, at=at)


def escalate(after: int = 2, at: time | None = None) -> Rule:
    return Rule(kind=RuleKind.ESCALATE, after_unanswered=after, at=at)


def action(
    action_id: int = 5,
    due: date = date(2019, 9, 30),
    status: ActionStatus = ActionStatus.IN_PROGRESS,
    last_update_at: datetime | None = None,
    ref: str | None = None,
) -> ActionFacts:
    return ActionFacts(
        action_id=action_id,
        ref=ref or str(action_id),
        due=due,
        status=status,
        last_update_at=last_update_at,
    )


def participant(
    *actions: ActionFacts,
    zone: str = BERLIN,
    country: str | None = None,
    working_days_only: bool = False,
    state: ParticipantState = ParticipantState.ACTIVE,
    planned: Sequence[str] = (),
    sent: Sequence[SentReminder] = (),
    last_reply_at: datetime | None = None,
    participant_id: int = PID,
) -> ParticipantFacts:
    return ParticipantFacts(
        participant_id=participant_id,
        state=state,
        timezone=zone,
        country=country,
        working_days_only=working_days_only,
        actions=actions or (action(),),
        last_reply_at=last_reply_at,
        sent=tuple(sent),
        planned_keys=frozenset(planned),
    )


def sent(reminder_id: int, at: datetime, *, answered: bool = False) -> SentReminder:
    return SentReminder(
        reminder_id=reminder_id, kind=ReminderKind.CHECK_IN, sent_at=at, answered=answered
    )


def item_keys(messages: Sequence[PlannedMessage]) -> list[str]:
    return [item.key for message in messages for item in message.items]


def with_planned(facts: ParticipantFacts, messages: Sequence[PlannedMessage]) -> ParticipantFacts:
    return dataclasses.replace(facts, planned_keys=facts.planned_keys | set(item_keys(messages)))


def simulate(
    rules: Sequence[Rule],
    facts: ParticipantFacts,
    start: datetime,
    end: datetime,
    tick: timedelta = timedelta(minutes=1),
) -> list[tuple[datetime, PlannedMessage]]:
    """Run the metronome from `start` to `end`, jumping to `next_due` when idle.

    Each tick plans at a multiple of `tick` after `start`; what it plans is
    added to the participant's planned keys, as the outbox would.
    """
    planned: list[tuple[datetime, PlannedMessage]] = []
    now = start
    while now <= end:
        moment = next_due(rules, facts, now=now)
        if moment is None:
            break
        if moment > now:
            steps = -((now - moment) // tick)  # ceiling division: the first tick at or after
            now = now + steps * tick
            continue
        messages = due_reminders(rules, [facts], now=now)
        planned.extend((now, m) for m in messages)
        facts = with_planned(facts, messages)
        now += tick
    return [(when, m) for when, m in planned if when <= end]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
