"""The follow-up rules one by one: check-in, before-due, overdue, and rule validation."""

from __future__ import annotations

from datetime import UTC as ZONE_UTC
from datetime import date, datetime, time

import pytest

from tests.unit.test_rules_support import (
    BERLIN,
    action,
    before_due,
    check_in,
    item_keys,
    local,
    overdue,
    participant,
    simulate,
)
from tracker.core.model import ActionStatus, ReminderKind, RuleKind
from tracker.core.rules import ActionFacts, Period, Rule, due_reminders, next_due

YEAR_START = local(BERLIN, 2019, 6, 1)
YEAR_END = local(BERLIN, 2020, 12, 31)


def planned_dates(rules: list[Rule], *actions_: ActionFacts) -> list[str]:
    facts = participant(*actions_)
    return [key for _, m in simulate(rules, facts, YEAR_START, YEAR_END) for key in item_keys([m])]


# --- check-in ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "first", "count", "due", "expected"),
    [
        (
            "1 month",
            date(2019, 6, 23),
            6,
            date(2020, 3, 31),
            ["2019-06-23", "2019-07-23", "2019-08-23", "2019-09-23", "2019-10-23", "2019-11-23"],
        ),
        # The 31st comes back after shorter months; February clamps to its end.
        (
            "1 month",
            date(2019, 8, 31),
            4,
            date(2020, 3, 31),
            ["2019-08-31", "2019-09-30", "2019-10-31", "2019-11-30"],
        ),
        ("1 month", date(2020, 1, 31), 2, date(2020, 6, 1), ["2020-01-31", "2020-02-29"]),
        ("2 months", date(2019, 6, 30), 2, date(2020, 6, 1), ["2019-06-30", "2019-08-30"]),
        (
            "2 weeks",
            date(2019, 6, 3),
            3,
            date(2020, 1, 1),
            ["2019-06-03", "2019-06-17", "2019-07-01"],
        ),
        (
            "3 days",
            date(2019, 6, 3),
            3,
            date(2020, 1, 1),
            ["2019-06-03", "2019-06-06", "2019-06-09"],
        ),
        ("1 week", date(2019, 6, 3), 1, date(2020, 1, 1), ["2019-06-03"]),
        # No count: the series runs up to the participant's last due date.
        (
            "1 week",
            date(2019, 6, 3),
            None,
            date(2019, 6, 30),
            ["2019-06-03", "2019-06-10", "2019-06-17", "2019-06-24"],
        ),
        (
            "1 month",
            date(2019, 6, 23),
            None,
            date(2019, 8, 23),
            ["2019-06-23", "2019-07-23", "2019-08-23"],
        ),
        ("1 month", date(2019, 6, 23), None, date(2019, 6, 1), []),
    ],
)
def test_check_in_series_sends_each_date_once(
    every: str, first: date, count: int | None, due: date, expected: list[str]
) -> None:
    keys = planned_dates([check_in(every, first, count)], action(due=due))
    assert keys == [f"check_in:p12:{day}" for day in expected]


def test_check_in_is_one_item_about_all_open_actions() -> None:
    facts = participant(action(5), action(6, status=ActionStatus.BLOCKED))
    [message] = due_reminders([check_in()], [facts], now=local(BERLIN, 2019, 6, 23, 9, 30))
    assert message.kind is ReminderKind.CHECK_IN
    assert [(i.key, i.action_id) for i in message.items] == [("check_in:p12:2019-06-23", None)]


@pytest.mark.parametrize("status", [ActionStatus.DONE, ActionStatus.DROPPED])
def test_check_in_with_no_open_action_sends_nothing(status: ActionStatus) -> None:
    facts = participant(action(5, status=status), action(6, status=ActionStatus.DONE))
    assert due_reminders([check_in()], [facts], now=local(BERLIN, 2019, 6, 23, 10)) == []
    assert next_due([check_in()], facts, now=local(BERLIN, 2019, 6, 1)) is None


@pytest.mark.parametrize(
    ("at", "now", "expected"),
    [
        (time(9, 30), local(BERLIN, 2019, 6, 23, 9, 29), 0),
        (time(9, 30), local(BERLIN, 2019, 6, 23, 9, 30), 1),
        (None, local(BERLIN, 2019, 6, 23, 8, 59), 0),  # `at` omitted: 09:00
        (None, local(BERLIN, 2019, 6, 23, 9, 0), 1),
        (time(0, 0), local(BERLIN, 2019, 6, 22, 23, 59), 0),
        (time(0, 0), local(BERLIN, 2019, 6, 23, 0, 0), 1),
    ],
)
def test_check_in_is_never_sent_before_its_local_time(
    at: time | None, now: datetime, expected: int
) -> None:
    rules = [check_in(at=at)]
    assert len(due_reminders(rules, [participant()], now=now)) == expected


# --- before-due -------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "planned", "now", "expected"),
    [
        (7, [], local(BERLIN, 2019, 9, 23, 9, 29), []),
        (7, [], local(BERLIN, 2019, 9, 23, 9, 30), ["before_due:a5:2019-09-30:7d"]),
        (0, [], local(BERLIN, 2019, 9, 30, 9, 30), ["before_due:a5:2019-09-30:0d"]),
        (1, [], local(BERLIN, 2019, 9, 29, 12, 0), ["before_due:a5:2019-09-30:1d"]),
        # Missed (downtime, or imported late) but still before the due date: sent late.
        (7, [], local(BERLIN, 2019, 9, 27, 12, 0), ["before_due:a5:2019-09-30:7d"]),
        (7, [], local(BERLIN, 2019, 9, 30, 23, 59), ["before_due:a5:2019-09-30:7d"]),
        # Once the due date has passed it is stale: overdue takes over.
        (7, [], local(BERLIN, 2019, 10, 1, 0, 0), []),
        (7, ["before_due:a5:2019-09-30:7d"], local(BERLIN, 2019, 9, 24), []),
        # A due date moved by re-import is a new occurrence.
        (
            7,
            ["before_due:a5:2019-09-15:7d"],
            local(BERLIN, 2019, 9, 24),
            ["before_due:a5:2019-09-30:7d"],
        ),
    ],
)
def test_before_due_asks_once_n_days_before(
    days: int, planned: list[str], now: datetime, expected: list[str]
) -> None:
    facts = participant(action(5), planned=planned)
    messages = due_reminders([before_due(days)], [facts], now=now)
    assert item_keys(messages) == expected
    assert all(i.action_id == 5 for m in messages for i in m.items)


@pytest.mark.parametrize(
    ("planned", "now", "expected"),
    [
        ([], local(BERLIN, 2019, 9, 16, 10), ["before_due:a5:2019-09-30:14d"]),
        ([], local(BERLIN, 2019, 9, 25, 10), ["before_due:a5:2019-09-30:7d"]),  # only the latest
        (
            ["before_due:a5:2019-09-30:14d"],
            local(BERLIN, 2019, 9, 23, 10),
            ["before_due:a5:2019-09-30:7d"],
        ),
        (["before_due:a5:2019-09-30:7d"], local(BERLIN, 2019, 9, 25, 10), []),
    ],
)
def test_several_before_due_rules_form_one_catch_up_series(
    planned: list[str], now: datetime, expected: list[str]
) -> None:
    facts = participant(action(5), planned=planned)
    assert item_keys(due_reminders([before_due(14), before_due(7)], [facts], now=now)) == expected


@pytest.mark.parametrize("status", [ActionStatus.DONE, ActionStatus.DROPPED])
def test_before_due_skips_closed_actions(status: ActionStatus) -> None:
    facts = participant(action(5, status=status))
    assert due_reminders([before_due(7)], [facts], now=local(BERLIN, 2019, 9, 23, 10)) == []


# --- overdue ----------------------------------------------------------------


def test_overdue_action_gets_at_most_max_reminders() -> None:
    assert planned_dates([overdue(7, 3)], action(5)) == [
        "overdue:a5:2019-09-30:2019-10-07",
        "overdue:a5:2019-09-30:2019-10-14",
        "overdue:a5:2019-09-30:2019-10-21",
    ]


@pytest.mark.parametrize(
    ("every_days", "max_times", "expected"),
    [
        (1, 2, ["2019-10-01", "2019-10-02"]),
        (10, 1, ["2019-10-10"]),
        (14, 2, ["2019-10-14", "2019-10-28"]),
    ],
)
def test_overdue_repeats_every_n_days_after_the_due_date(
    every_days: int, max_times: int, expected: list[str]
) -> None:
    keys = planned_dates([overdue(every_days, max_times)], action(5))
    assert keys == [f"overdue:a5:2019-09-30:{day}" for day in expected]


@pytest.mark.parametrize(
    ("last_update_at", "expected"),
    [
        (None, 3),
        (local(BERLIN, 2019, 9, 29, 23, 59), 3),  # before it fell due: does not count
        (local(BERLIN, 2019, 9, 30, 0, 0), 0),  # at the start of the due date: stops it
        (local(BERLIN, 2019, 9, 30, 15, 0), 0),
    ],
)
def test_an_update_since_the_due_date_stops_overdue_reminders(
    last_update_at: datetime | None, expected: int
) -> None:
    keys = planned_dates([overdue(7, 3)], action(5, last_update_at=last_update_at))
    assert len(keys) == expected


def test_an_update_between_overdue_reminders_stops_the_rest() -> None:
    rules = [overdue(7, 3)]
    facts = participant(action(5))
    first = due_reminders(rules, [facts], now=local(BERLIN, 2019, 10, 7, 9, 30))
    assert item_keys(first) == ["overdue:a5:2019-09-30:2019-10-07"]
    replied = participant(
        action(5, last_update_at=local(BERLIN, 2019, 10, 8, 12)), planned=item_keys(first)
    )
    assert next_due(rules, replied, now=local(BERLIN, 2019, 10, 8, 12)) is None
    assert due_reminders(rules, [replied], now=local(BERLIN, 2019, 10, 21, 12)) == []


@pytest.mark.parametrize("status", [ActionStatus.DONE, ActionStatus.DROPPED])
def test_closed_actions_are_not_overdue(status: ActionStatus) -> None:
    facts = participant(action(5, status=status))
    assert due_reminders([overdue()], [facts], now=local(BERLIN, 2019, 10, 30)) == []


# --- rule validation --------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": RuleKind.CHECK_IN, "first": date(2019, 6, 1)}, "needs 'every'"),
        ({"kind": RuleKind.CHECK_IN, "every": Period(count=1, unit="week")}, "needs 'first'"),
        ({"kind": RuleKind.BEFORE_DUE}, "needs 'days'"),
        ({"kind": RuleKind.BEFORE_DUE, "days": 7, "max": 3}, "takes no 'max'"),
        ({"kind": RuleKind.OVERDUE, "every_days": 7}, "needs 'max'"),
        ({"kind": RuleKind.OVERDUE, "every_days": 0, "max": 3}, "every_days must be"),
        ({"kind": RuleKind.OVERDUE, "every_days": 7, "max": 0}, "max must be"),
        ({"kind": RuleKind.BEFORE_DUE, "days": -1}, "days must be"),
        ({"kind": RuleKind.ESCALATE, "after_unanswered": 0}, "after_unanswered must be"),
        ({"kind": RuleKind.ESCALATE}, "needs 'after_unanswered'"),
        (
            {"kind": RuleKind.BEFORE_DUE, "days": 1, "at": time(9, tzinfo=ZONE_UTC)},
            "takes no time zone",
        ),
    ],
)
def test_malformed_rules_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rule(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("count", "unit"), [(0, "day"), (1, "fortnight")])
def test_malformed_periods_are_refused(count: int, unit: str) -> None:
    with pytest.raises(ValueError, match="period"):
        Period(count=count, unit=unit)  # type: ignore[arg-type]


def test_omitted_send_time_is_nine_oclock() -> None:
    assert Rule(kind=RuleKind.BEFORE_DUE, days=3).send_time == time(9, 0)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_reminders([check_in()], [participant()], now=datetime(2019, 6, 23, 10))  # noqa: DTZ001
