"""Adding and editing one participant or action without a file, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tracker.db.orm import Event, Participant
from tracker.programme.fields import FieldsError
from tracker.programme.reading import read_programme_file
from tracker.services.coordinating import find_participant
from tracker.services.editing import (
    add_action,
    add_participant,
    edit_action,
    edit_participant,
    find_action,
)
from tracker.services.importing import import_programme
from tracker.services.planning import REPLAN, plan_due_reminders
from tracker.services.schedule import find_programme
from tracker.services.status import programme_status

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
SLUG = "small-programme"
MAY = datetime(2019, 5, 24, tzinfo=UTC)
JULY = datetime(2019, 7, 1, tzinfo=UTC)
BY = "coordinator:officer@example.org"


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory.begin() as session:
        import_programme(
            read_programme_file(SMALL.read_text(encoding="utf-8"), languages=("en", "zh-CN")),
            session=session,
            now=MAY,
        )
        plan_due_reminders(session=session, now=MAY)
    return session_factory


def test_a_participant_added_mid_programme_is_planned_and_shows_in_status(
    factory: sessionmaker[Session],
) -> None:
    with factory.begin() as session:
        programme = find_programme(SLUG, session=session)
        li = add_participant(
            programme,
            {
                "email": "Li.Na@Example.cn",
                "name": "李娜",
                "organisation": "成都市生态环境局",
                "timezone": "",
            },
            session=session,
            now=JULY,
            actor=BY,
        )
        add_action(
            li,
            {"ref": "1", "title": "建立监测网络", "due": "2019-12-31"},
            session=session,
            now=JULY,
            actor=BY,
        )
        assert li.next_due_at == REPLAN
    with factory() as session:
        people = programme_status(session=session, slug=SLUG)["programmes"][0]["participants"]
        li_status = people[-1]
        assert (li_status["email"], li_status["name"], li_status["organisation"]) == (
            "li.na@example.cn",
            "李娜",
            "成都市生态环境局",
        )
        assert [(a["ref"], a["title"], a["due"]) for a in li_status["actions"]] == [
            ("1", "建立监测网络", "2019-12-31")
        ]
        events = session.scalars(select(Event).where(Event.actor == BY).order_by(Event.id)).all()
        assert [(e.action, e.detail) for e in events] == [
            ("participant.added", "li.na@example.cn; name: 李娜; organisation: 成都市生态环境局"),
            ("action.added", "1; title: 建立监测网络; due: 2019-12-31"),
        ]


def test_edits_say_old_to_new_and_refuse_what_the_file_would(
    factory: sessionmaker[Session],
) -> None:
    with factory.begin() as session:
        wang = find_participant("wang.xiaoming@example.org", slug=SLUG, session=session)
        assert edit_participant(
            wang, {"name": "王小明", "language": "en"}, session=session, now=JULY, actor=BY
        ) == [
            "name: 王晓明 → 王小明",
            "language: (the programme's) → en",
        ]
        assert edit_participant(wang, {"name": "王小明"}, session=session, now=JULY, actor=BY) == []
        action = find_action(wang, "2", session=session)
        assert edit_action(action, {"due": "2020-06-30"}, session=session, now=JULY, actor=BY) == [
            "action 2: due: 2020-03-31 → 2020-06-30"
        ]
    cases = [
        (
            lambda s, w: edit_participant(
                w, {"timezone": "EST5EDT?"}, session=s, now=JULY, actor=BY
            ),
            {"timezone"},
        ),
        (
            lambda s, w: edit_participant(
                w, {"email": "x@example.org"}, session=s, now=JULY, actor=BY
            ),
            {"email"},
        ),
        (lambda s, w: edit_participant(w, {"name": ""}, session=s, now=JULY, actor=BY), {"name"}),
        (
            lambda s, w: add_action(
                w,
                {"ref": "1", "title": "Again", "due": "2019-12-31"},
                session=s,
                now=JULY,
                actor=BY,
            ),
            {"ref"},
        ),
        (
            lambda s, w: add_action(
                w, {"ref": "x y", "title": "", "due": "2019-02-30"}, session=s, now=JULY, actor=BY
            ),
            {"ref", "title", "due"},
        ),
        (
            lambda s, w: add_action(
                w,
                {"ref": "3", "title": "Early", "due": "2019-01-01"},
                session=s,
                now=JULY,
                actor=BY,
            ),
            {"due"},
        ),
    ]
    for change, fields in cases:
        with factory.begin() as session:
            wang = find_participant("wang.xiaoming@example.org", slug=SLUG, session=session)
            with pytest.raises(FieldsError) as raised:
                change(session, wang)
            assert set(raised.value.problems) == fields
    with factory() as session:
        assert (
            session.scalar(
                select(Participant.name).where(Participant.email == "wang.xiaoming@example.org")
            )
            == "王小明"
        )


def test_the_editing_commands(tracker_env: dict[str, str]) -> None:
    assert run_tracker("db", "upgrade", env=tracker_env).code == 0
    assert run_tracker("import", str(SMALL), env=tracker_env).code == 0
    added = run_tracker(
        "participant", "add", SLUG, "li.na@example.cn", "李娜", "--country", "cn", env=tracker_env
    )
    assert (added.code, added.stdout.strip()) == (
        0,
        f"li.na@example.cn is now a participant of {SLUG}",
    ), added.stderr
    again = run_tracker("participant", "add", SLUG, "li.na@example.cn", "李娜", env=tracker_env)
    assert (again.code, again.stderr.strip()) == (
        1,
        f"error: email: li.na@example.cn is already a participant of {SLUG}",
    )
    assert (
        run_tracker(
            "action", "add", "li.na@example.cn", "1", "建立监测网络", "2019-12-31", env=tracker_env
        ).code
        == 0
    )
    edited = run_tracker(
        "action", "edit", "li.na@example.cn", "1", "--due", "2020-01-31", env=tracker_env
    )
    assert edited.stdout.splitlines() == [
        "  action 1: due: 2019-12-31 → 2020-01-31",
        "li.na@example.cn: 1 change(s)",
    ]
    assert run_tracker("action", "archive", "li.na@example.cn", "1", env=tracker_env).code == 0
    status = run_tracker("status", "--json", env=tracker_env).json()["programmes"][0][
        "participants"
    ][-1]
    assert (status["email"], status["actions"]) == ("li.na@example.cn", [])
    assert run_tracker("participant", "edit", "li.na@example.cn", env=tracker_env).code == 2
    bad = run_tracker("action", "add", "li.na@example.cn", "2", "x", "someday", env=tracker_env)
    assert (bad.code, bad.stderr.strip()) == (1, "error: due: 'someday' is not a date (YYYY-MM-DD)")


def test_a_language_without_email_templates_is_refused(tracker_env: dict[str, str]) -> None:
    assert run_tracker("db", "upgrade", env=tracker_env).code == 0
    assert run_tracker("import", str(SMALL), env=tracker_env).code == 0
    result = run_tracker(
        "participant", "add", SLUG, "li.na@example.cn", "李娜", "--language", "fr", env=tracker_env
    )
    assert (result.code, result.stderr.strip()) == (
        1,
        "error: language: no email templates in 'fr' (there are: en, zh-CN)",
    )
