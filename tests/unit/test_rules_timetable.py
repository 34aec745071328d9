"""The timetable planner against the planner it replaced (`test_rules_oracle`).

A pass shares one `Timetable` among participants on the same calendars with
actions due on the same dates, so what one participant makes of a shared
timeline (their statuses, updates, planned keys) must never leak into
another's plan.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.unit.test_rules_oracle import old_due_reminders, old_next_due
from tests.unit.test_rules_properties import (
    SEND_TIMES,
    ZONES,
    dates,
    moments,
    planned_keys,
    rule_lists,
)
from tracker.core.calendar import local_moment
from tracker.core.model import ActionStatus, ParticipantState, ReminderKind, RuleKind
from tracker.core.rules import (
    ActionFacts,
    ParticipantFacts,
    Rule,
    SentReminder,
    Timetable,
    due_reminders,
    first_firing,
    next_due,
    planned_messages,
)


@st.composite
def passes(draw: st.DrawFn) -> tuple[list[ParticipantFacts], datetime]:
    """Two to five participants drawing calendars and due dates from small pools,
    and a moment: any, or one near a due date, where the series turn."""
    calendars = draw(
        st.lists(
            st.tuples(st.sampled_from(ZONES), st.sampled_from([None, "CN", "GB"]), st.booleans()),
            min_size=1,
            max_size=2,
        )
    )
    due_dates = draw(st.lists(dates(), min_size=1, max_size=3))
    crowd = []
    for pid in range(1, draw(st.integers(2, 5)) + 1):
        zone, country, working_days_only = draw(st.sampled_from(calendars))
        actions = tuple(
            ActionFacts(
                action_id=pid * 10 + n,
                ref=str(n + 1),
                due=draw(st.sampled_from(due_dates)),
                status=draw(st.sampled_from(list(ActionStatus))),
                last_update_at=draw(st.one_of(st.none(), moments())),
            )
            for n in range(draw(st.integers(0, 3)))
        )
        sent = tuple(
            SentReminder(
                reminder_id=pid * 100 + n,
                kind=draw(st.sampled_from([ReminderKind.CHECK_IN, ReminderKind.OVERDUE])),
                sent_at=draw(moments()),
                answered=draw(st.booleans()),
            )
            for n in range(draw(st.integers(0, 3)))
        )
        crowd.append(
            ParticipantFacts(
                participant_id=pid,
                state=draw(st.sampled_from(list(ParticipantState))),
                timezone=zone,
                country=country,
                working_days_only=working_days_only,
                actions=actions,
                last_reply_at=draw(st.one_of(st.none(), moments())),
                sent=sent,
                planned_keys=frozenset(draw(st.lists(planned_keys(pid, actions), max_size=4))),
            )
        )
    near = st.builds(
        lambda day, shift, at, zone: local_moment(day + timedelta(days=shift), at, ZoneInfo(zone)),
        st.sampled_from(due_dates),
        st.one_of(st.integers(-3, 1), st.integers(-10, 40)),  # the last days before due, often
        st.sampled_from(SEND_TIMES),
        st.sampled_from(ZONES),
    )
    return crowd, draw(st.one_of(moments(last=date(2021, 1, 31)), near))


# A reminder on the due date itself, still to come, and the last before its series expires.
ON_THE_DUE_DATE = (
    [Rule(kind=RuleKind.BEFORE_DUE, days=0)],
    [
        ParticipantFacts(
            participant_id=1,
            state=ParticipantState.ACTIVE,
            timezone="Asia/Shanghai",
            actions=(
                ActionFacts(
                    action_id=10, ref="1", due=date(2019, 9, 30), status=ActionStatus.NOT_STARTED
                ),
            ),
        )
    ],
    datetime(2019, 9, 29, 2, 0, tzinfo=UTC),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_lists, pass_=passes())
@example(rules=ON_THE_DUE_DATE[0], pass_=(ON_THE_DUE_DATE[1], ON_THE_DUE_DATE[2]))
def test_a_shared_timetable_plans_what_the_old_planner_planned(
    rules: list[Rule], pass_: tuple[list[ParticipantFacts], datetime]
) -> None:
    crowd, now = pass_
    assert due_reminders(rules, crowd, now=now) == old_due_reminders(rules, crowd, now=now)
    for facts in crowd:
        assert next_due(rules, facts, now=now) == old_next_due(rules, facts, now=now)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=rule_lists,
    pass_=passes(),
    won=st.lists(st.booleans(), min_size=10, max_size=10),
)
def test_a_plan_updated_with_what_it_planned_is_the_plan_rebuilt(
    rules: list[Rule], pass_: tuple[list[ParticipantFacts], datetime], won: list[bool]
) -> None:
    """As a tick does: plan everyone, insert (another planner may win some
    messages), then each participant's next due moment from the updated plan."""
    crowd, now = pass_
    timetable = Timetable(rules, now)
    wins = iter(won)
    for facts in crowd:
        if not facts.state.receives_reminders:
            continue
        plan = timetable.plan(facts)
        added = [m for m in planned_messages(plan) if next(wins)]
        keys = {i.key for m in added for i in m.items} | {m.key for m in added}
        rebuilt = dataclasses.replace(facts, planned_keys=facts.planned_keys | keys)
        assert first_firing(plan.with_planned(keys)) == old_next_due(rules, rebuilt, now=now)
