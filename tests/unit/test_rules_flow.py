"""The planner across rules: merging, catch-up, escalation, states, DST, working days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from tests.unit.test_rules_support import (
    BERLIN,
    LONDON,
    NEW_YORK,
    SHANGHAI,
    action,
    before_due,
    check_in,
    escalate,
    item_keys,
    local,
    overdue,
    participant,
    sent,
    simulate,
    utc,
    with_planned,
)
from tracker.core.model import ActionStatus, ParticipantState, ReminderKind
from tracker.core.rules import (
    ActionFacts,
    ParticipantFacts,
    SentReminder,
    due_reminders,
    next_due,
)

# --- merging ----------------------------------------------------------------


def test_reminders_on_one_day_are_merged_into_one_message() -> None:
    # 2019-09-23: the monthly check-in and action 5's 7-day reminder coincide.
    rules = [check_in(), before_due(7)]
    facts = participant(action(5), action(6, due=date(2020, 3, 31)))
    [message] = due_reminders(rules, [facts], now=local(BERLIN, 2019, 9, 23, 9, 30))
    assert message.kind is ReminderKind.BEFORE_DUE
    assert message.audience == "participant"
    assert [(i.key, i.kind, i.action_id) for i in message.items] == [
        ("before_due:a5:2019-09-30:7d", ReminderKind.BEFORE_DUE, 5),
        ("check_in:p12:2019-09-23", ReminderKind.CHECK_IN, None),
    ]
    assert message.local_date == date(2019, 9, 23)
    assert message.scheduled_at == utc(2019, 9, 23, 7, 30)
    assert message.key == "msg:before_due:a5:2019-09-30:7d"


def test_merged_message_is_named_after_its_most_pressing_item() -> None:
    # Action 5 overdue on 10-07; action 6 due 10-14 gets its 7-day reminder;
    # a weekly check-in from 2019-09-30 also falls on 10-07.
    rules = [check_in("1 week", date(2019, 9, 30), None), before_due(7), overdue(7, 3)]
    facts = participant(action(5), action(6, due=date(2019, 10, 14)))
    [message] = due_reminders(rules, [facts], now=local(BERLIN, 2019, 10, 7, 9, 30))
    assert message.kind is ReminderKind.OVERDUE
    assert [i.kind for i in message.items] == [
        ReminderKind.OVERDUE,
        ReminderKind.BEFORE_DUE,
        ReminderKind.CHECK_IN,
    ]


def test_a_days_reminders_wait_for_the_latest_send_time_of_that_day() -> None:
    rules = [check_in(at=time(9, 0)), before_due(7, at=time(17, 0))]
    facts = participant(action(5))
    # At 10:00 the check-in is due, but the before-due reminder comes at 17:00.
    assert due_reminders(rules, [facts], now=local(BERLIN, 2019, 9, 23, 10)) == []
    assert next_due(rules, facts, now=local(BERLIN, 2019, 9, 23, 10)) == utc(2019, 9, 23, 15)
    [message] = due_reminders(rules, [facts], now=local(BERLIN, 2019, 9, 23, 17))
    assert message.scheduled_at == utc(2019, 9, 23, 15)  # 17:00 CEST: never before any `at`
    assert item_keys([message]) == ["before_due:a5:2019-09-30:7d", "check_in:p12:2019-09-23"]


def test_holding_never_carries_a_reminder_into_the_next_day() -> None:
    rules = [check_in(at=time(17, 0)), before_due(6, at=time(9, 0))]
    facts = participant(action(5))
    [message] = due_reminders(rules, [facts], now=local(BERLIN, 2019, 9, 23, 17))
    assert item_keys([message]) == ["check_in:p12:2019-09-23"]


def test_two_check_in_rules_on_one_date_send_one_check_in() -> None:
    rules = [check_in(at=time(9, 0)), check_in("1 week", date(2019, 6, 23), 2, at=time(11, 0))]
    moments = simulate(rules, participant(), local(BERLIN, 2019, 6, 1), local(BERLIN, 2019, 7, 31))
    assert [(m.scheduled_at, item_keys([m])) for _, m in moments] == [
        (utc(2019, 6, 23, 9), ["check_in:p12:2019-06-23"]),
        (utc(2019, 6, 30, 9), ["check_in:p12:2019-06-30"]),
        (utc(2019, 7, 23, 7), ["check_in:p12:2019-07-23"]),
    ]


# --- catch-up ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("planned", "now", "expected"),
    [
        # Down from June to late September: one check-in, the latest missed one.
        (["check_in:p12:2019-06-23"], local(BERLIN, 2019, 9, 30, 8), ["check_in:p12:2019-09-23"]),
        ([], local(BERLIN, 2019, 9, 30, 8), ["check_in:p12:2019-09-23"]),
        # The series is over (six dates): its last date is still sent once.
        ([], local(BERLIN, 2020, 5, 1), ["check_in:p12:2019-11-23"]),
        (["check_in:p12:2019-11-23"], local(BERLIN, 2020, 5, 1), []),
        # Never an older one after a newer was planned.
        (["check_in:p12:2019-10-23"], local(BERLIN, 2019, 9, 30, 8), []),
    ],
)
def test_catch_up_sends_only_the_latest_missed_occurrence(
    planned: list[str], now: datetime, expected: list[str]
) -> None:
    facts = participant(action(5, due=date(2020, 3, 31)), planned=planned)
    assert item_keys(due_reminders([check_in()], [facts], now=now)) == expected


def test_catch_up_after_downtime_merges_every_late_series_once() -> None:
    rules = [check_in(), before_due(7), overdue(7, 3)]
    facts = participant(action(5), action(6, due=date(2020, 3, 31)))
    now = local(BERLIN, 2019, 10, 16, 8)  # down since early September
    [message] = due_reminders(rules, [facts], now=now)
    # The before-due reminder is stale (its due date is over); overdue sends
    # its latest missed date only, not 10-07 and 10-14 both.
    assert item_keys([message]) == ["overdue:a5:2019-09-30:2019-10-14", "check_in:p12:2019-09-23"]
    assert message.scheduled_at == utc(2019, 10, 14, 7, 30)
    assert due_reminders(rules, [with_planned(facts, [message])], now=now) == []
    later = simulate(rules, with_planned(facts, [message]), now, local(BERLIN, 2019, 10, 31))
    assert [item_keys([m]) for _, m in later] == [
        ["overdue:a5:2019-09-30:2019-10-21"],
        ["check_in:p12:2019-10-23"],
    ]


def test_planning_the_same_moment_twice_yields_nothing() -> None:
    rules = [check_in(), before_due(7), overdue(7, 3), escalate(1)]
    facts = participant(action(5), sent=[sent(1, local(BERLIN, 2019, 9, 1, 9))])
    now = local(BERLIN, 2019, 10, 7, 9, 30)
    first = due_reminders(rules, [facts], now=now)
    assert {m.audience for m in first} == {"participant", "coordinators"}
    assert due_reminders(rules, [with_planned(facts, first)], now=now) == []


# --- who gets nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    "state", [ParticipantState.PAUSED, ParticipantState.OPTED_OUT, ParticipantState.BOUNCING]
)
def test_paused_opted_out_and_bouncing_participants_get_nothing(state: ParticipantState) -> None:
    rules = [check_in(), before_due(7), overdue(7, 3), escalate(1)]
    facts = participant(action(5), state=state, sent=[sent(1, local(BERLIN, 2019, 9, 1, 9))])
    now = local(BERLIN, 2019, 10, 7, 9, 30)
    assert due_reminders(rules, [facts], now=now) == []
    assert next_due(rules, facts, now=now) is None


def test_one_participant_is_planned_independently_of_another() -> None:
    rules = [check_in()]
    active = participant(participant_id=1)
    paused = participant(participant_id=2, state=ParticipantState.PAUSED)
    other = participant(participant_id=3, zone=NEW_YORK)
    messages = due_reminders(rules, [active, paused, other], now=utc(2019, 6, 23, 14))
    assert [m.participant_id for m in messages] == [1, 3]


# --- escalation ---------------------------------------------------------------

R1 = local(BERLIN, 2019, 6, 23, 9, 30)
R2 = local(BERLIN, 2019, 7, 23, 9, 30)
R3 = local(BERLIN, 2019, 8, 23, 9, 30)


@pytest.mark.parametrize(
    ("reminders", "reply", "update", "planned", "now", "expected"),
    [
        # Two unanswered reminders: the coordinators hear the next day at 09:00.
        ([sent(1, R1), sent(2, R2)], None, None, [], local(BERLIN, 2019, 7, 24, 9), "r1"),
        ([sent(1, R1), sent(2, R2)], None, None, [], local(BERLIN, 2019, 7, 24, 8, 59), None),
        ([sent(1, R1)], None, None, [], local(BERLIN, 2019, 8, 1), None),
        # A reply before the first of them is not an answer to them.
        ([sent(1, R1), sent(2, R2)], R1 - timedelta(days=1), None, [], R3, "r1"),
        # A reply, or any update, after the first of them is.
        ([sent(1, R1), sent(2, R2)], R1 + timedelta(days=1), None, [], R3, None),
        ([sent(1, R1), sent(2, R2)], None, R2 + timedelta(hours=1), [], R3, None),
        ([sent(1, R1), sent(2, R2, answered=True)], None, None, [], R3, None),
        # Once per unanswered run, however long it grows.
        ([sent(1, R1), sent(2, R2), sent(3, R3)], None, None, ["escalate:p12:r1"], R3, None),
        # A reply starts a new run, which escalates again with a new key.
        (
            [sent(1, R1), sent(2, R2), sent(3, R3), sent(4, R3 + timedelta(days=30))],
            R2 + timedelta(days=1),
            None,
            ["escalate:p12:r1"],
            R3 + timedelta(days=32),
            "r3",
        ),
    ],
)
def test_escalation_after_unanswered_reminders(
    reminders: list[SentReminder],
    reply: datetime | None,
    update: datetime | None,
    planned: list[str],
    now: datetime,
    expected: str | None,
) -> None:
    facts = participant(
        action(5, due=date(2020, 3, 31), last_update_at=update),
        sent=reminders,
        last_reply_at=reply,
        planned=planned,
    )
    messages = due_reminders([escalate(2)], [facts], now=now)
    if expected is None:
        assert messages == []
        return
    [message] = messages
    assert message.audience == "coordinators"
    assert message.kind is ReminderKind.ESCALATION
    assert item_keys([message]) == [f"escalate:p12:{expected}"]
    assert message.key == f"msg:escalate:p12:{expected}"


def test_escalations_and_acknowledgements_do_not_count_as_unanswered_reminders() -> None:
    others = [
        SentReminder(reminder_id=7, kind=ReminderKind.ESCALATION, sent_at=R1),
        SentReminder(reminder_id=8, kind=ReminderKind.ACKNOWLEDGEMENT, sent_at=R2),
    ]
    facts = participant(sent=[*others, sent(9, R3)])
    assert due_reminders([escalate(2)], [facts], now=R3 + timedelta(days=5)) == []


def test_escalation_is_a_separate_message_from_the_participants_mail() -> None:
    facts = participant(action(5), sent=[sent(1, R1), sent(2, R2)])
    now = local(BERLIN, 2019, 7, 24, 9, 30)
    rules = [check_in("1 day", date(2019, 7, 24), 1, at=time(9, 0)), escalate(2)]
    messages = due_reminders(rules, [facts], now=now)
    assert sorted((m.audience, m.kind, len(m.items)) for m in messages) == [
        ("coordinators", ReminderKind.ESCALATION, 1),
        ("participant", ReminderKind.CHECK_IN, 1),
    ]


def test_escalation_waits_for_a_working_day() -> None:
    friday = local(SHANGHAI, 2019, 9, 27, 9, 30)
    facts = participant(
        action(5), zone=SHANGHAI, country="CN", working_days_only=True,
        sent=[sent(1, friday - timedelta(days=7)), sent(2, friday)],
    )  # fmt: skip
    # Saturday 09-28 is off; Sunday 09-29 is a make-up working day.
    assert next_due([escalate(2)], facts, now=friday) == local(SHANGHAI, 2019, 9, 29, 9)


# --- daylight saving --------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "first", "at", "expected_utc"),
    [
        # 02:30 does not exist on 03-10 in New York: sent at 03:30 EDT (07:30Z).
        (NEW_YORK, date(2019, 3, 9), time(2, 30), ["03-09 07:30", "03-10 07:30", "03-11 06:30"]),
        # 01:30 happens twice on 11-03: the first one (EDT, 05:30Z).
        (NEW_YORK, date(2019, 11, 2), time(1, 30), ["11-02 05:30", "11-03 05:30", "11-04 06:30"]),
        (NEW_YORK, date(2019, 3, 9), time(9, 0), ["03-09 14:00", "03-10 13:00", "03-11 13:00"]),
        (LONDON, date(2019, 3, 30), time(1, 30), ["03-30 01:30", "03-31 01:30", "04-01 00:30"]),
        (LONDON, date(2019, 10, 26), time(1, 30), ["10-26 00:30", "10-27 00:30", "10-28 01:30"]),
    ],
)
def test_daily_check_in_across_daylight_saving_changes(
    zone: str, first: date, at: time, expected_utc: list[str]
) -> None:
    facts = participant(action(5, due=date(2020, 1, 1)), zone=zone)
    rules = [check_in("1 day", first, 3, at=at)]
    planned = simulate(rules, facts, utc(2019, 1, 1), utc(2019, 12, 31))
    assert [m.scheduled_at.strftime("%m-%d %H:%M") for _, m in planned] == expected_utc
    assert all(m.scheduled_at.utcoffset() == timedelta(0) for _, m in planned)


# --- working days -----------------------------------------------------------


def chinese(*actions: ActionFacts) -> ParticipantFacts:
    return participant(*actions, zone=SHANGHAI, country="CN", working_days_only=True)


@pytest.mark.parametrize(
    ("first", "sent_on"),
    [
        (date(2019, 6, 23), date(2019, 6, 24)),  # Sunday -> Monday
        (date(2019, 9, 28), date(2019, 9, 29)),  # Saturday -> the make-up Sunday
        (date(2019, 9, 29), date(2019, 9, 29)),  # make-up Sunday: a working day
        (date(2019, 10, 1), date(2019, 10, 8)),  # National Day week
        (date(2019, 10, 5), date(2019, 10, 8)),
        (date(2019, 10, 12), date(2019, 10, 12)),  # make-up Saturday
        (date(2019, 10, 13), date(2019, 10, 14)),
    ],
)
def test_working_days_only_moves_reminders_to_the_next_working_day(
    first: date, sent_on: date
) -> None:
    facts = chinese(action(5, due=date(2020, 1, 1)))
    planned = simulate([check_in("1 day", first, 1)], facts, utc(2019, 6, 1), utc(2019, 12, 31))
    [(_, message)] = planned
    assert message.local_date == sent_on
    assert message.scheduled_at == local(SHANGHAI, sent_on.year, sent_on.month, sent_on.day, 9, 30)
    assert item_keys([message]) == [f"check_in:p12:{first}"]  # keyed by the rule's date


def test_a_holiday_week_of_daily_check_ins_sends_one() -> None:
    facts = chinese(action(5, due=date(2020, 1, 1)))
    rules = [check_in("1 day", date(2019, 9, 30), 9)]
    planned = simulate(rules, facts, utc(2019, 9, 1), utc(2019, 10, 31))
    assert [(m.local_date, item_keys([m])) for _, m in planned] == [
        (date(2019, 9, 30), ["check_in:p12:2019-09-30"]),
        (date(2019, 10, 8), ["check_in:p12:2019-10-08"]),  # 10-01..10-07 superseded
    ]


def test_overdue_reminders_skip_the_national_day_holiday() -> None:
    facts = chinese(action(5, due=date(2019, 9, 30)))
    planned = simulate([overdue(7, 2)], facts, utc(2019, 9, 1), utc(2019, 12, 31))
    assert [(m.local_date, item_keys([m])) for _, m in planned] == [
        (date(2019, 10, 8), ["overdue:a5:2019-09-30:2019-10-07"]),
        (date(2019, 10, 14), ["overdue:a5:2019-09-30:2019-10-14"]),
    ]


def test_without_working_days_only_weekends_and_holidays_are_kept() -> None:
    facts = participant(action(5), zone=SHANGHAI, country="CN", working_days_only=False)
    [message] = due_reminders(
        [check_in("1 day", date(2019, 10, 1), 1)], [facts], now=utc(2019, 10, 1, 2)
    )
    assert message.local_date == date(2019, 10, 1)


# --- next due ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(BERLIN, 2019, 6, 1), local(BERLIN, 2019, 6, 23, 9, 30)),
        (local(BERLIN, 2019, 6, 23, 9, 30), local(BERLIN, 2019, 6, 23, 9, 30)),
        (local(BERLIN, 2019, 6, 25), local(BERLIN, 2019, 6, 23, 9, 30)),  # due, not yet planned
    ],
)
def test_next_due_is_the_first_moment_something_fires(now: datetime, expected: datetime) -> None:
    assert next_due([check_in()], participant(), now=now) == expected


def test_next_due_skips_what_is_planned_and_ends_with_the_series() -> None:
    rules = [check_in("1 week", date(2019, 6, 3), 2)]
    facts = participant(action(5, status=ActionStatus.BLOCKED), planned=["check_in:p12:2019-06-03"])
    assert next_due(rules, facts, now=local(BERLIN, 2019, 6, 5)) == local(
        BERLIN, 2019, 6, 10, 9, 30
    )
    done = participant(planned=["check_in:p12:2019-06-03", "check_in:p12:2019-06-10"])
    assert next_due(rules, done, now=local(BERLIN, 2019, 6, 5)) is None


def test_next_due_with_no_rules_is_none() -> None:
    assert next_due([], participant(), now=local(BERLIN, 2019, 6, 5)) is None
