"""Properties of the planner over generated rules, participants and moments."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.core.calendar import local_moment, next_working_day
from tracker.core.model import ActionStatus, ParticipantState, ReminderKind, RuleKind
from tracker.core.rules import (
    ActionFacts,
    ParticipantFacts,
    Period,
    PlannedMessage,
    Rule,
    SentReminder,
    due_reminders,
    next_due,
)

ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "Asia/Shanghai",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Santiago",  # DST changes at midnight
    "UTC",
]
# Times that hit DST gaps and folds somewhere above, and ordinary ones.
SEND_TIMES = [time(0, 0), time(0, 30), time(1, 30), time(2, 0), time(2, 30), time(9, 0)]
SEND_TIMES += [time(9, 30), time(17, 0), time(23, 59)]

DAY_ONE = date(2019, 1, 1)


def dates(first: date = DAY_ONE, last: date = date(2020, 12, 31)) -> st.SearchStrategy[date]:
    return st.dates(min_value=first, max_value=last)


def moments(first: date = DAY_ONE, last: date = date(2021, 3, 31)) -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=datetime.combine(first, time(0)),
        max_value=datetime.combine(last, time(0)),
        timezones=st.just(UTC),
    )


send_times = st.one_of(st.none(), st.sampled_from(SEND_TIMES), st.times())

check_in_rules = st.builds(
    Rule,
    kind=st.just(RuleKind.CHECK_IN),
    every=st.builds(
        Period, count=st.integers(1, 3), unit=st.sampled_from(["day", "week", "month"])
    ),
    first=dates(last=date(2020, 6, 30)),
    count=st.one_of(st.none(), st.integers(1, 8)),
    at=send_times,
)
before_due_rules = st.builds(
    Rule, kind=st.just(RuleKind.BEFORE_DUE), days=st.integers(0, 20), at=send_times
)
overdue_rules = st.builds(
    Rule,
    kind=st.just(RuleKind.OVERDUE),
    every_days=st.integers(1, 10),
    max=st.integers(1, 4),
    at=send_times,
)
escalate_rules = st.builds(
    Rule, kind=st.just(RuleKind.ESCALATE), after_unanswered=st.integers(1, 3), at=send_times
)
rule_lists = st.lists(
    st.one_of(check_in_rules, before_due_rules, overdue_rules, escalate_rules), max_size=5
)


@st.composite
def participants(
    draw: st.DrawFn, participant_id: int = 12, active_only: bool = False
) -> ParticipantFacts:
    zone = draw(st.sampled_from(ZONES))
    action_count = draw(st.integers(0, 3))
    actions = tuple(
        ActionFacts(
            action_id=participant_id * 10 + n,
            ref=str(n + 1),
            due=draw(dates()),
            status=draw(st.sampled_from(list(ActionStatus))),
            last_update_at=draw(st.one_of(st.none(), moments())),
        )
        for n in range(action_count)
    )
    sent_count = draw(st.integers(0, 4))
    kinds = [ReminderKind.CHECK_IN, ReminderKind.OVERDUE, ReminderKind.ESCALATION]
    sent = tuple(
        SentReminder(
            reminder_id=participant_id * 100 + n,
            kind=draw(st.sampled_from(kinds)),
            sent_at=draw(moments()),
            answered=draw(st.booleans()),
        )
        for n in range(sent_count)
    )
    planned = draw(st.lists(planned_keys(participant_id, actions), max_size=4))
    states = [ParticipantState.ACTIVE] if active_only else list(ParticipantState)
    return ParticipantFacts(
        participant_id=participant_id,
        state=draw(st.sampled_from(states)),
        timezone=zone,
        country=draw(st.sampled_from([None, "CN", "GB", "US"])),
        working_days_only=draw(st.booleans()),
        actions=actions,
        last_reply_at=draw(st.one_of(st.none(), moments())),
        sent=sent,
        planned_keys=frozenset(planned),
    )


def planned_keys(pid: int, actions: Sequence[ActionFacts]) -> st.SearchStrategy[str]:
    """Keys as an earlier pass might have left them, plus some that are not ours."""
    options = [
        dates().map(lambda d: f"check_in:p{pid}:{d}"),
        st.integers(pid * 100, pid * 100 + 3).map(lambda r: f"escalate:p{pid}:r{r}"),
        st.sampled_from(["garbage", "check_in:p12:not-a-date", "before_due:a1:x:yd"]),
    ]
    for a in actions:
        options.append(st.integers(0, 20).map(f"before_due:a{a.action_id}:{a.due}:{{}}d".format))
        overdue_dates = dates(a.due + timedelta(days=1), a.due + timedelta(days=40))
        options.append(overdue_dates.map(f"overdue:a{a.action_id}:{a.due}:{{}}".format))
    return st.one_of(options)


def series_of(key: str) -> str:
    """The catch-up series an item key belongs to (its key without the occurrence)."""
    return key.rsplit(":", 1)[0]


def earliest_local_send(rules: Sequence[Rule], facts: ParticipantFacts, key: str) -> datetime:
    """The earliest local wall time the item may go at, from the rules that can make it."""
    kind, _, *rest = key.split(":")
    if kind == "check_in":
        nominal = date.fromisoformat(rest[0])
        ats = [r.send_time for r in rules if r.kind is RuleKind.CHECK_IN]
    elif kind == "before_due":
        days = int(rest[1][:-1])
        nominal = date.fromisoformat(rest[0]) - timedelta(days=days)
        ats = [r.send_time for r in rules if r.kind is RuleKind.BEFORE_DUE and r.days == days]
    else:
        nominal = date.fromisoformat(rest[1])
        ats = [r.send_time for r in rules if r.kind is RuleKind.OVERDUE]
    day = next_working_day(nominal, facts.country) if facts.working_days_only else nominal
    return datetime.combine(day, min(ats))


def all_keys(messages: Sequence[PlannedMessage]) -> list[str]:
    return [item.key for m in messages for item in m.items]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_lists, first=participants(1), second=participants(2), now=moments())
def test_plans_are_well_formed(
    rules: list[Rule], first: ParticipantFacts, second: ParticipantFacts, now: datetime
) -> None:
    messages = due_reminders(rules, [first, second], now=now)
    keys = all_keys(messages)
    # Never two items, nor two messages, with one key; never one already planned.
    assert len(keys) == len(set(keys))
    assert len({m.key for m in messages}) == len(messages)
    by_id = {1: first, 2: second}
    for message in messages:
        facts = by_id[message.participant_id]
        assert facts.state is ParticipantState.ACTIVE
        assert not {i.key for i in message.items} & facts.planned_keys
        assert message.scheduled_at <= now
        assert message.scheduled_at.utcoffset() == timedelta(0)
        zone = ZoneInfo(facts.timezone)
        assert message.local_date == message.scheduled_at.astimezone(zone).date()
        # A catch-up pass sends one occurrence per series, never one per missed date.
        series = Counter(series_of(i.key) for i in message.items)
        assert max(series.values()) == 1
        if message.audience == "coordinators":
            assert [i.kind for i in message.items] == [ReminderKind.ESCALATION]
            continue
        assert ReminderKind.ESCALATION not in {i.kind for i in message.items}
        priority = [ReminderKind.OVERDUE, ReminderKind.BEFORE_DUE, ReminderKind.CHECK_IN]
        assert message.kind == min((i.kind for i in message.items), key=priority.index)
        wall = message.scheduled_at.astimezone(zone).replace(tzinfo=None)
        for item in message.items:
            assert wall >= earliest_local_send(rules, facts, item.key)
    # At most one participant message and one escalation per participant.
    assert len({(m.participant_id, m.audience) for m in messages}) == len(messages)


@settings(max_examples=150, deadline=None)
@given(rules=rule_lists, facts=participants(), now=moments())
def test_planning_again_with_the_planned_keys_yields_nothing(
    rules: list[Rule], facts: ParticipantFacts, now: datetime
) -> None:
    first = due_reminders(rules, [facts], now=now)
    again = dataclasses.replace(facts, planned_keys=facts.planned_keys | set(all_keys(first)))
    assert due_reminders(rules, [again], now=now) == []


@settings(max_examples=100, deadline=None)
@given(
    rules=rule_lists,
    facts=participants(),
    now=moments(),
    state=st.sampled_from(
        [ParticipantState.PAUSED, ParticipantState.OPTED_OUT, ParticipantState.BOUNCING]
    ),
)
def test_paused_opted_out_and_bouncing_get_nothing(
    rules: list[Rule], facts: ParticipantFacts, now: datetime, state: ParticipantState
) -> None:
    silent = dataclasses.replace(facts, state=state)
    assert due_reminders(rules, [silent], now=now) == []
    assert next_due(rules, silent, now=now) is None


def candidate_moments(
    rules: Sequence[Rule], facts: ParticipantFacts, start: datetime, end: datetime
) -> list[datetime]:
    """Every instant in [start, end) at which something could start being due.

    Reminders become due (or stop being held) only at some rule's local time
    on some day, so checking these instants, and a minute after each, misses
    no first firing.
    """
    zone = ZoneInfo(facts.timezone)
    ats = {r.send_time for r in rules} or {time(9)}
    found = {start}
    day = start.astimezone(zone).date() - timedelta(days=1)
    while local_moment(day, time(0), zone) < end:
        for at in ats:
            moment = local_moment(day, at, zone)
            found.update({moment, moment + timedelta(minutes=1)})
        day += timedelta(days=1)
    return sorted(m for m in found if start <= m < end)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_lists, facts=participants(active_only=True), now=moments())
def test_next_due_is_never_later_than_the_first_firing(
    rules: list[Rule], facts: ParticipantFacts, now: datetime
) -> None:
    horizon = now + timedelta(days=45)
    moment = next_due(rules, facts, now=now)
    quiet_until = horizon if moment is None else min(moment, horizon)
    for instant in candidate_moments(rules, facts, now, quiet_until):
        assert due_reminders(rules, [facts], now=instant) == [], instant
    if moment is not None and moment <= horizon:
        # ...and it is a real firing: at that moment (or now, if later) something goes.
        assert due_reminders(rules, [facts], now=max(moment, now)) != []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=rule_lists,
    facts=participants(active_only=True),
    start=moments(last=date(2020, 6, 30)),
    gaps=st.lists(st.integers(1, 60 * 24 * 20), min_size=5, max_size=40),
)
def test_a_metronome_with_downtime_keeps_every_promise(
    rules: list[Rule], facts: ParticipantFacts, start: datetime, gaps: list[int]
) -> None:
    """Ticks at irregular intervals (minutes to weeks apart), as after outages.

    The stored `next_due_at` must let through every tick that plans something,
    and each series' occurrences are planned in strictly increasing order.
    """
    now = start
    stored_next_due = next_due(rules, facts, now=now)
    newest: dict[str, str] = {}
    for gap in gaps:
        now += timedelta(minutes=gap)
        messages = due_reminders(rules, [facts], now=now)
        if messages:
            assert stored_next_due is not None
            assert stored_next_due <= now
        for key in all_keys(messages):
            series, occurrence = key.rsplit(":", 1)
            if key.startswith(("check_in", "overdue")):
                assert occurrence > newest.get(series, ""), key
                newest[series] = occurrence
        facts = dataclasses.replace(
            facts, planned_keys=facts.planned_keys | set(all_keys(messages))
        )
        stored_next_due = next_due(rules, facts, now=now)
