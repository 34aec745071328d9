"""The follow-up schedule: preview what rules would send, replace them, on both engines."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tracker.core.model import ParticipantState, ReminderKind, RuleKind
from tracker.db.orm import Event, Participant
from tracker.programme.reading import read_programme_file
from tracker.programme.rules import rule_from_fields
from tracker.programme.spec import RuleSpec
from tracker.services.coordinating import find_participant, set_participant_state
from tracker.services.importing import import_programme
from tracker.services.planning import REPLAN, plan_due_reminders
from tracker.services.schedule import (
    current_rules,
    find_programme,
    preview_schedule,
    save_schedule,
)

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
SLUG = "small-programme"
MAY = datetime(2019, 5, 24, tzinfo=UTC)
SEPTEMBER = datetime(2019, 9, 1, tzinfo=UTC)
WANG = "wang.xiaoming@example.org"


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory.begin() as session:
        spec = read_programme_file(SMALL.read_text(encoding="utf-8"), languages=("en", "zh-CN"))
        import_programme(spec, session=session, now=MAY)
        # Everything due up to the end of August was planned (and so is not news).
        plan_due_reminders(session=session, now=datetime(2019, 8, 31, tzinfo=UTC))
    return session_factory


def preview_lines(
    factory: sessionmaker[Session], rules: tuple[RuleSpec, ...] | None = None
) -> dict[str, list[tuple[str, str, str]]]:
    with factory() as session:
        programme = find_programme(SLUG, session=session)
        preview = preview_schedule(
            programme,
            current_rules(programme) if rules is None else rules,
            session=session,
            now=SEPTEMBER,
            days=90,
        )
    return {
        p.email: [
            (e.local_date.isoformat(), e.kind.value, ",".join(e.refs))
            for e in p.entries
            if not e.queued
        ]
        for p in preview.participants
    }


def test_the_preview_lists_each_message_in_the_participants_local_time(
    factory: sessionmaker[Session],
) -> None:
    lines = preview_lines(factory)
    assert lines[WANG] == [
        # The check-in and "action 1 is due in 7 days" fall on one day: one message.
        ("2019-09-23", "before_due", "1"),
        # August's check-in is still in the outbox: with this one, two unanswered.
        ("2019-09-24", "escalation", ""),
        # 30 September + 7 is the National Day week: the next working day.
        ("2019-10-08", "overdue", "1"),
        ("2019-10-14", "overdue", "1"),
        ("2019-10-21", "overdue", "1"),
        ("2019-10-23", "check_in", ""),
        ("2019-11-25", "check_in", ""),
    ]
    with factory() as session:
        programme = find_programme(SLUG, session=session)
        preview = preview_schedule(
            programme,
            current_rules(programme),
            session=session,
            now=SEPTEMBER,
            holiday_language="zh_CN",
        )
    wang = next(p for p in preview.participants if p.email == WANG)
    assert (date(2019, 10, 1), "国庆节") in wang.holidays
    queued, check_in = wang.entries[:2]
    # August's check-in, planned but not sent yet, goes out at once.
    assert (queued.queued, queued.kind, queued.local_date) == (
        True,
        ReminderKind.CHECK_IN,
        date(2019, 9, 1),
    )
    assert (check_in.local_time, check_in.sends_at) == (
        time(9, 30),
        datetime(2019, 9, 23, 1, 30, tzinfo=UTC),
    )


def test_an_edited_rule_changes_the_preview_and_nothing_is_saved(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session:
        rules = current_rules(find_programme(SLUG, session=session))
    weekly = rule_from_fields(
        {"kind": "check_in", "every": "2 weeks", "first": "2019-09-01", "at": "08:00"}
    )
    edited = (weekly, *rules[1:])
    lines = preview_lines(factory, edited)
    assert [d for d, kind, _ in lines[WANG] if kind == "check_in"][:3] == [
        "2019-09-02",
        "2019-09-16",
        "2019-09-29",  # a make-up working day
    ]
    assert preview_lines(factory)[WANG][0] == ("2019-09-23", "before_due", "1")


def test_a_paused_participant_has_nothing_in_the_preview(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        participant = find_participant(WANG, slug=SLUG, session=session)
        set_participant_state(participant, ParticipantState.PAUSED, session=session, now=MAY)
    assert preview_lines(factory)[WANG] == []
    assert preview_lines(factory)["anna@example.org"] != []


def test_saving_replaces_the_rules_replans_everyone_and_logs_who_changed_what(
    factory: sessionmaker[Session],
) -> None:
    with factory.begin() as session:
        programme = find_programme(SLUG, session=session)
        rules = current_rules(programme)
        overdue = dataclasses.replace(rules[2], every_days=14)
        changes = save_schedule(
            programme,
            (rules[0], overdue, rules[3]),
            session=session,
            now=SEPTEMBER,
            actor="coordinator:officer@example.org",
        )
    assert changes == [
        "before_due rule: removed (days 7, at 09:30)",
        "overdue rule: every_days 7 → every_days 14",
    ]
    with factory() as session:
        programme = find_programme(SLUG, session=session)
        assert [r.kind for r in current_rules(programme)] == [
            RuleKind.CHECK_IN,
            RuleKind.OVERDUE,
            RuleKind.ESCALATE,
        ]
        assert {p.next_due_at for p in session.scalars(select(Participant))} == {REPLAN}
        (event,) = session.scalars(select(Event).where(Event.action == "schedule.changed"))
        assert event.actor == "coordinator:officer@example.org"
        assert (
            event.detail == "before_due rule: removed (days 7, at 09:30); "
            "overdue rule: every_days 7 → every_days 14"
        )


def test_saving_the_same_rules_records_nothing(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        programme = find_programme(SLUG, session=session)
        assert (
            save_schedule(
                programme, current_rules(programme), session=session, now=SEPTEMBER, actor="cli"
            )
            == []
        )
    with factory() as session:
        assert session.scalars(select(Event).where(Event.action == "schedule.changed")).all() == []


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        ({"kind": "check_in", "every": "fortnightly", "first": "2019-09-02"}, {"every"}),
        ({"kind": "check_in", "every": "1 week"}, {"first"}),
        (
            {"kind": "check_in", "every": "1 week", "first": "2019-02-30", "at": "25:00"},
            {"first", "at"},
        ),
        ({"kind": "overdue", "every_days": "0", "max": "x"}, {"every_days", "max"}),
        ({"kind": "overdue", "every_days": "7", "max": "20000"}, {"max"}),
        ({"kind": "reminder"}, {"kind"}),
        ({"kind": "escalate"}, {"after_unanswered"}),
    ],
)
def test_a_bad_rule_names_each_field_wrong(fields: dict[str, str], problems: set[str]) -> None:
    from tracker.programme.rules import RuleFieldsError

    with pytest.raises(RuleFieldsError) as raised:
        rule_from_fields(fields)
    assert set(raised.value.problems) == problems


def test_the_schedule_commands(tracker_env: dict[str, str]) -> None:
    assert run_tracker("db", "upgrade", env=tracker_env).code == 0
    assert run_tracker("import", str(SMALL), "--now", MAY.isoformat(), env=tracker_env).code == 0
    shown = run_tracker("schedule", "show", SLUG, env=tracker_env)
    assert shown.code == 0, shown.stderr
    assert (
        '  - {kind: check_in, every: 1 month, first: 2019-06-23, count: 6, at: "09:30"}'
        in shown.stdout
    )
    preview = run_tracker(
        "schedule",
        "preview",
        SLUG,
        "--days",
        "30",
        "--now",
        "2019-06-01T00:00:00Z",
        "--json",
        env=tracker_env,
    )
    assert preview.code == 0, preview.stderr
    document = preview.json()
    wang = next(p for p in document["participants"] if p["email"] == WANG)
    assert wang["messages"][0] == {
        "date": "2019-06-24",
        "time": "09:30",
        "at": "2019-06-24T01:30:00+00:00",
        "kind": "check_in",
        "to": "participant",
        "refs": [],
        "queued": False,
    }
    text = run_tracker(
        "schedule",
        "preview",
        SLUG,
        "--days",
        "30",
        "--now",
        "2019-06-01T00:00:00Z",
        env=tracker_env,
    )
    assert "    2019-06-24 Mon 09:30  check-in" in text.stdout
    assert "public holidays: 2019-06-07 Dragon Boat Festival" in text.stdout
    missing = run_tracker("schedule", "show", "nope", env=tracker_env)
    assert (missing.code, missing.stderr.strip()) == (1, "error: no programme with slug 'nope'")
    assert run_tracker("schedule", "preview", SLUG, "--days", "0", env=tracker_env).code == 2
