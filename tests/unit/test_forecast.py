"""The schedule preview is the planner run forward: checked against the planner itself."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings

from tests.unit.test_rules_properties import candidate_moments, moments, participants, rule_lists
from tracker.core.calendar import public_holidays
from tracker.core.facts import ActionFacts, ParticipantFacts, Period, Rule, SentReminder
from tracker.core.forecast import ForecastMessage, forecast
from tracker.core.model import ActionStatus, ParticipantState, ReminderKind, RuleKind
from tracker.core.rules import due_reminders


def ticking(
    rules: list[Rule], facts: ParticipantFacts, start: datetime, end: datetime
) -> list[tuple[str, datetime]]:
    """The metronome itself: a tick at every instant where anything can become due.

    Each tick plans what `due_reminders` says, and the sender sends it at
    once and nobody answers.
    """
    found: list[tuple[str, datetime]] = []
    next_id = -1
    for instant in candidate_moments(rules, facts, start, end):
        planned = due_reminders(rules, [facts], now=instant)
        sent = list(facts.sent)
        keys = set(facts.planned_keys)
        for message in planned:
            found.append((message.key, max(message.scheduled_at, instant)))
            keys |= {message.key, *(item.key for item in message.items)}
            if message.audience == "participant":
                sent.append(SentReminder(reminder_id=next_id, kind=message.kind, sent_at=instant))
                next_id -= 1
        facts = dataclasses.replace(facts, sent=tuple(sent), planned_keys=frozenset(keys))
    return found


def keyed(messages: list[ForecastMessage]) -> list[tuple[str, datetime]]:
    return [(m.message.key, m.sends_at) for m in messages]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_lists, facts=participants(active_only=True), start=moments())
def test_the_forecast_is_what_the_metronome_would_plan(
    rules: list[Rule], facts: ParticipantFacts, start: datetime
) -> None:
    end = start + timedelta(days=40)
    predicted = forecast(rules, facts, start=start, end=end)
    assert keyed(predicted) == ticking(rules, facts, start, end)
    for item in predicted:
        assert start <= item.sends_at < end
        assert item.message.participant_id == facts.participant_id


@settings(max_examples=60, deadline=None)
@given(rules=rule_lists, facts=participants(), start=moments())
def test_the_forecast_never_repeats_a_key_or_reaches_the_silent(
    rules: list[Rule], facts: ParticipantFacts, start: datetime
) -> None:
    predicted = forecast(rules, facts, start=start, end=start + timedelta(days=90))
    keys = [item.key for m in predicted for item in m.message.items]
    assert len(keys) == len(set(keys))
    assert not set(keys) & facts.planned_keys
    if facts.state is not ParticipantState.ACTIVE:
        assert predicted == []


SHANGHAI = "Asia/Shanghai"
START = datetime(2019, 9, 1, tzinfo=UTC)


def official(**changes: object) -> ParticipantFacts:
    facts = ParticipantFacts(
        participant_id=7,
        state=ParticipantState.ACTIVE,
        timezone=SHANGHAI,
        country="CN",
        # August's check-in went out already.
        planned_keys=frozenset({"check_in:p7:2019-08-23", "msg:check_in:p7:2019-08-23"}),
        actions=(
            ActionFacts(
                action_id=70, ref="1", due=date(2019, 9, 30), status=ActionStatus.IN_PROGRESS
            ),
        ),
    )
    return dataclasses.replace(facts, **changes)


MONTHLY = Rule(
    kind=RuleKind.CHECK_IN,
    every=Period(count=1, unit="month"),
    first=date(2019, 6, 23),
    count=6,
    at=time(9, 30),
)
OVERDUE = Rule(kind=RuleKind.OVERDUE, every_days=7, max=3, at=time(9, 30))
ESCALATE = Rule(kind=RuleKind.ESCALATE, after_unanswered=2, at=time(10, 0))


def test_silence_leads_to_an_escalation_the_day_after_the_second_unanswered_reminder() -> None:
    predicted = forecast(
        [MONTHLY, OVERDUE, ESCALATE], official(), start=START, end=START + timedelta(days=90)
    )
    lines = [(m.message.kind, m.message.audience, m.local_date) for m in predicted]
    assert lines == [
        (ReminderKind.CHECK_IN, "participant", date(2019, 9, 23)),
        # 2019-10-07 is the last day of the National Day week: moved to the 8th.
        (ReminderKind.OVERDUE, "participant", date(2019, 10, 8)),
        (ReminderKind.ESCALATION, "coordinators", date(2019, 10, 9)),
        (ReminderKind.OVERDUE, "participant", date(2019, 10, 14)),
        (ReminderKind.OVERDUE, "participant", date(2019, 10, 21)),
        (ReminderKind.CHECK_IN, "participant", date(2019, 10, 23)),
        (ReminderKind.CHECK_IN, "participant", date(2019, 11, 25)),
    ]
    # In the participant's local time: 09:30 in Shanghai is 01:30 UTC.
    assert predicted[0].sends_at == datetime(2019, 9, 23, 1, 30, tzinfo=UTC)


def test_changing_a_rule_changes_the_forecast() -> None:
    fortnightly = dataclasses.replace(MONTHLY, every=Period(count=2, unit="week"), count=None)
    window = {"start": START, "end": START + timedelta(days=30)}
    monthly_days = [m.local_date for m in forecast([MONTHLY], official(), **window)]
    fortnightly_days = [m.local_date for m in forecast([fortnightly], official(), **window)]
    assert monthly_days == [date(2019, 9, 23)]
    # Every two weeks from Sunday 23 June until the last due date: Sundays move
    # to Monday, except 29 September, one of China's make-up working days.
    assert fortnightly_days == [date(2019, 9, 2), date(2019, 9, 16), date(2019, 9, 29)]


def test_an_answered_or_closed_plan_forecasts_nothing() -> None:
    done = official(
        actions=(
            ActionFacts(action_id=70, ref="1", due=date(2019, 9, 30), status=ActionStatus.DONE),
        )
    )
    assert (
        forecast([MONTHLY, OVERDUE, ESCALATE], done, start=START, end=START + timedelta(days=90))
        == []
    )
    paused = official(state=ParticipantState.PAUSED)
    assert forecast([MONTHLY], paused, start=START, end=START + timedelta(days=90)) == []


def test_public_holidays_are_named_in_the_language_asked() -> None:
    found = public_holidays("CN", date(2019, 10, 1), date(2019, 10, 1), language="zh_CN")
    assert found == [(date(2019, 10, 1), "国庆节")]
    assert public_holidays("CN", date(2019, 10, 1), date(2019, 10, 1), language="en_US") == [
        (date(2019, 10, 1), "National Day")
    ]
    assert public_holidays(None, date(2019, 10, 1), date(2019, 10, 7)) == []
    # Germany's holidays have no Chinese names: English, not German, for a Chinese reader.
    assert public_holidays("DE", date(2019, 12, 25), date(2019, 12, 25), language="zh_CN") == [
        (date(2019, 12, 25), "Christmas Day")
    ]
