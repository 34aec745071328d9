"""Importing programme files into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.db.orm import Action, Event, Participant, Programme
from tracker.programme.reading import read_programme_file
from tracker.services.importing import ImportReport, import_programme
from tracker.services.planning import REPLAN
from tracker.services.status import programme_status

ROOT = Path(__file__).resolve().parents[2]
SMALL = (ROOT / "tests/data/programmes/small.yaml").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "examples/programme.yaml").read_text(encoding="utf-8")
LANGUAGES = ("en", "zh-CN")
MAY = datetime(2019, 5, 24, 8, 0, tzinfo=UTC)
JUNE = datetime(2019, 6, 1, 8, 0, tzinfo=UTC)


def load(factory: sessionmaker[Session], text: str, now: datetime = MAY) -> ImportReport:
    with factory.begin() as session:
        return import_programme(
            read_programme_file(text, languages=LANGUAGES), session=session, now=now
        )


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for comparing whole databases."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(table.select())), key=repr)
            for name, table in metadata.tables.items()
        }


def test_the_example_programme_imports(session_factory: sessionmaker[Session]) -> None:
    report = load(session_factory, EXAMPLE)
    assert report.created == 1 + 2 + 12 + 25  # programme, coordinators, participants, actions
    with session_factory() as session:
        document = programme_status(session=session)
    (programme,) = document["programmes"]
    assert programme["slug"] == "shrdc-2019-china"
    assert len(programme["participants"]) == 12
    first = programme["participants"][0]
    assert first["state"] == "active"
    assert first["actions"][0] == {
        "ref": "1",
        "title": "发布西城区2019—2020年清洁空气行动计划",
        "due": "2019-09-30",
        "status": "not_started",
        "percent": None,
        "last_update": None,
    }


def test_importing_the_same_file_again_changes_nothing(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    load(session_factory, EXAMPLE)
    before = snapshot(engine)
    report = load(session_factory, EXAMPLE, now=JUNE)
    assert report.changes == []
    assert snapshot(engine) == before


def test_reimport_updates_in_place(session_factory: sessionmaker[Session]) -> None:
    load(session_factory, SMALL)
    with session_factory() as session:
        ids_before = {p.email: p.id for p in session.scalars(select(Participant))}
    changed = SMALL.replace(
        "试点低排放物流配送区, due: 2020-03-31", "试点低排放物流配送区（扩大）, due: 2020-06-30"
    )
    report = load(session_factory, changed, now=JUNE)
    assert report.lines() == [
        'action 2 of wang.xiaoming@example.org: title "试点低排放物流配送区" → '
        '"试点低排放物流配送区（扩大）"',
        "action 2 of wang.xiaoming@example.org: due 2020-03-31 → 2020-06-30",
    ]
    with session_factory() as session:
        assert {p.email: p.id for p in session.scalars(select(Participant))} == ids_before
        action = session.scalars(select(Action).where(Action.ref == "2")).one()
        assert action.title == "试点低排放物流配送区（扩大）"
        assert action.updated_at == JUNE
        assert (
            session.scalars(select(Participant).where(Participant.email.like("wang%")))
            .one()
            .next_due_at
            == REPLAN
        )


def test_left_out_people_and_actions_are_archived_not_deleted(
    session_factory: sessionmaker[Session],
) -> None:
    load(session_factory, SMALL)
    without_anna = SMALL.split("  - name: Anna Keller")[0].replace(
        '      - {ref: "2", title: 试点低排放物流配送区, due: 2020-03-31}\n', ""
    )
    report = load(session_factory, without_anna, now=JUNE)
    assert report.archived == 2
    with session_factory() as session:
        anna = session.scalars(
            select(Participant).where(Participant.email == "anna@example.org")
        ).one()
        assert anna.archived_at == JUNE
        assert len(session.scalars(select(Action)).all()) == 3  # nothing deleted
        status = programme_status(session=session)["programmes"][0]
    assert [p["email"] for p in status["participants"]] == ["wang.xiaoming@example.org"]
    assert [a["ref"] for a in status["participants"][0]["actions"]] == ["1"]
    report = load(session_factory, SMALL, now=JUNE)  # and they come back
    assert sorted(report.lines()) == [
        "action 2 of wang.xiaoming@example.org: restored",
        "participant anna@example.org: restored",
    ]


def test_changed_rules_replace_the_old_ones(session_factory: sessionmaker[Session]) -> None:
    load(session_factory, SMALL)
    report = load(session_factory, SMALL.replace("max: 3", "max: 5"), now=JUNE)
    assert report.lines() == ["overdue rule: max 3 → max 5"]
    with session_factory() as session:
        programme = session.scalars(select(Programme)).one()
        assert [r.max_count for r in programme.rules] == [None, None, 5, None]
        # every participant is re-planned under the new rules
        assert {p.next_due_at for p in session.scalars(select(Participant))} == {REPLAN}


def test_a_coordinator_serves_several_programmes(session_factory: sessionmaker[Session]) -> None:
    load(session_factory, SMALL)
    load(session_factory, SMALL.replace("slug: small-programme", "slug: second-programme"))
    with session_factory() as session:
        programmes = session.scalars(select(Programme).order_by(Programme.slug)).all()
        assert [[c.email for c in p.coordinators] for p in programmes] == [
            ["officer@example.org", "second@example.org"]
        ] * 2
        # Each programme keeps its own name, whoever coordinates it.
        assert [p.name for p in programmes] == ["Small test programme"] * 2


def test_every_value_of_the_file_reaches_the_database(
    session_factory: sessionmaker[Session],
) -> None:
    load(session_factory, SMALL.replace("country: CN\n", "country: CN\n  weekly_digest: false\n"))
    with session_factory() as session:
        programme = session.scalars(select(Programme)).one()
        assert (
            programme.slug,
            programme.name,
            programme.starts_on.isoformat(),
            programme.ends_on.isoformat(),
            programme.timezone,
            programme.language,
            programme.country,
            programme.working_days_only,
            programme.acknowledge_replies,
            programme.weekly_digest,
        ) == (
            "small-programme",
            "Small test programme",
            "2019-05-19",
            "2019-05-23",
            "Asia/Shanghai",
            "zh-CN",
            "CN",
            True,
            True,
            False,
        )
        assert [(c.name, c.email) for c in programme.coordinators] == [
            ("Officer", "officer@example.org"),
            ("Second Officer", "second@example.org"),
        ]
        assert [
            (
                r.kind,
                r.at_time,
                r.every_count,
                r.every_unit,
                r.first_on and r.first_on.isoformat(),
                r.count,
                r.days,
                r.every_days,
                r.max_count,
                r.after_unanswered,
            )
            for r in programme.rules
        ] == [
            ("check_in", "09:30", 1, "month", "2019-06-23", 6, None, None, None, None),
            ("before_due", "09:30", None, None, None, None, 7, None, None, None),
            ("overdue", "09:30", None, None, None, None, None, 7, 3, None),
            ("escalate", None, None, None, None, None, None, None, None, 2),
        ]
        people = session.scalars(select(Participant).order_by(Participant.id)).all()
        assert [
            (p.name, p.email, p.organisation, p.language, p.timezone, p.country, p.state)
            for p in people
        ] == [
            (
                "王晓明",
                "wang.xiaoming@example.org",
                "北京市西城区生态环境局",
                None,
                None,
                None,
                "active",
            ),
            ("Anna Keller", "anna@example.org", None, "en", "Europe/Berlin", "DE", "active"),
        ]
        actions = session.scalars(select(Action).order_by(Action.participant_id, Action.position))
        assert [(a.ref, a.title, a.due_on.isoformat(), a.position) for a in actions] == [
            ("1", "发布西城区清洁空气行动计划", "2019-09-30", 0),
            ("2", "试点低排放物流配送区", "2020-03-31", 1),
            ("1", "Pair each city with a peer city", "2019-09-30", 0),
        ]


def test_a_reimport_says_what_changes_old_to_new(session_factory: sessionmaker[Session]) -> None:
    load(session_factory, SMALL)
    changed = (
        SMALL.replace("name: Small test programme", "name: Small test programme 2019")
        .replace("timezone: Asia/Shanghai", "timezone: Asia/Chongqing")
        .replace(
            "{name: Second Officer, email: second@example.org}", "{name: Third, email: t@e.org}"
        )
        .replace("every: 1 month", "every: 2 weeks")
        .replace('{kind: before_due, days: 7, at: "09:30"}', "{kind: before_due, days: 3}")
        .replace("  - {kind: escalate, after_unanswered: 2}\n", "")
        .replace("name: Anna Keller", "name: Anna Keller-Schmidt")
        .replace("    language: en\n    timezone: Europe/Berlin\n", "")
        .replace('due: 2019-09-30}\n      - {ref: "2"', 'due: 2019-10-31}\n      - {ref: "2"')
    )
    report = load(session_factory, changed, now=JUNE)
    assert report.lines() == [
        'programme small-programme: name "Small test programme" → "Small test programme 2019"',
        "programme small-programme: timezone Asia/Shanghai → Asia/Chongqing",
        "coordinator t@e.org: new",
        "coordinator second@example.org: removed (from small-programme)",
        "check_in rule: every 1 month → every 2 weeks",
        "before_due rule: days 7 → days 3",
        "before_due rule: at 09:30 → at (not set)",
        "escalate rule: removed (after_unanswered 2)",
        "action 1 of wang.xiaoming@example.org: due 2019-09-30 → 2019-10-31",
        'participant anna@example.org: name "Anna Keller" → "Anna Keller-Schmidt"',
        "participant anna@example.org: language en → (the programme's)",
        "participant anna@example.org: timezone Europe/Berlin → (the programme's)",
    ]
    due = report.to_json()["changes"][8]
    assert due == {
        "entity": "action",
        "subject": "action 1 of wang.xiaoming@example.org",
        "change": "changed",
        "field": "due",
        "old": "2019-09-30",
        "new": "2019-10-31",
        "text": "action 1 of wang.xiaoming@example.org: due 2019-09-30 → 2019-10-31",
    }
    assert (report.created, report.updated, report.archived) == (1, 4, 0)


def test_previous_emails_match_the_same_participant(session_factory: sessionmaker[Session]) -> None:
    load(session_factory, SMALL)
    with session_factory() as session:
        anna_id = session.scalars(
            select(Participant.id).where(Participant.email == "anna@example.org")
        ).one()
    moved = SMALL.replace(
        "    email: anna@example.org\n",
        "    email: Anna.Keller@New.Example.org\n"
        "    previous_emails: [someone.else@example.org, ANNA@example.org]\n",
    )
    report = load(session_factory, moved, now=JUNE)
    assert report.lines() == [
        "participant anna.keller@new.example.org: email anna@example.org → "
        "anna.keller@new.example.org"
    ]
    assert (report.created, report.updated, report.archived) == (0, 1, 0)
    with session_factory() as session:
        anna = session.get(Participant, anna_id)
        assert anna is not None
        assert (anna.email, anna.archived_at) == ("anna.keller@new.example.org", None)
        assert session.scalars(select(Participant)).all().__len__() == 2
        (event,) = session.scalars(
            select(Event).where(Event.action == "participant.email_changed")
        ).all()
        assert event.participant_id == anna_id
        assert event.detail == "anna@example.org → anna.keller@new.example.org, by an import"
    # Importing the same file again changes nothing: the current address now matches.
    assert load(session_factory, moved, now=JUNE).lines() == []


def test_without_previous_emails_a_new_address_is_a_new_participant(
    session_factory: sessionmaker[Session],
) -> None:
    load(session_factory, SMALL)
    report = load(session_factory, SMALL.replace("anna@example.org", "anna@new.example.org"))
    assert report.lines() == [
        "participant anna@new.example.org: new",
        "action 1 of anna@new.example.org: new",
        "participant anna@example.org: archived (not in the file)",
    ]


def chunked_programme(people: list[tuple[str, str, list[str]]]) -> str:
    """SMALL's programme with these participants: (email, its previous ones, action titles)."""
    head = SMALL.split("participants:")[0]
    lines = [head + "participants:\n"]
    for email, previous, titles in people:
        lines.append(f"  - name: Person {email.split('@')[0]}\n    email: {email}\n")
        if previous:
            lines.append(f"    previous_emails: [{previous}]\n")
        lines.append("    actions:\n")
        lines.extend(
            f'      - {{ref: "{ref}", title: {title}, due: 2019-09-30}}\n'
            for ref, title in enumerate(titles, start=1)
        )
    return "".join(lines)


CHUNKED_IMPORTS = [
    chunked_programme([(f"p{n}@example.org", "", ["Plan", "Pilot"]) for n in range(7)]),
    # Two left out, one renamed, an action dropped, a title changed, one new, all reversed.
    chunked_programme(
        [
            ("p7@example.org", "", ["New"]),
            ("p6@example.org", "", ["Plan"]),
            ("p4@example.org", "", ["Plan", "Pilot"]),
            ("p3.new@example.org", "p3@example.org", ["Plan", "Pilot"]),
            ("p1@example.org", "", ["Plan", "Pilot"]),
            ("p0@example.org", "", ["Plan again", "Pilot"]),
        ]
    ),
    # The left out come back, the renamed one takes their old address back.
    chunked_programme(
        [(f"p{n}@example.org", "p3.new@example.org" if n == 3 else "", ["Plan"]) for n in range(8)]
    ),
]


def imported_in_chunks(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, chunk: int
) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """The reports and the rows of CHUNKED_IMPORTS imported `chunk` participants at a time."""
    monkeypatch.setattr("tracker.services.importing._CHUNK", chunk)
    reports = []
    with factory() as session:
        for day, text in enumerate(CHUNKED_IMPORTS, start=1):
            spec = read_programme_file(text, languages=LANGUAGES)
            now = MAY.replace(day=day)
            reports.append(import_programme(spec, session=session, now=now).to_json())
        # Every column but the ids (PostgreSQL's sequences do not roll back).
        people = [c for c in Participant.__table__.c if c.name not in ("id", "programme_id")]
        actions = [c for c in Action.__table__.c if c.name not in ("id", "participant_id")]
        rows = {
            "participants": sorted(map(tuple, session.execute(select(*people))), key=repr),
            "actions": sorted(
                map(tuple, session.execute(select(Participant.email, *actions).join(Participant))),
                key=repr,
            ),
            "events": sorted(
                map(tuple, session.execute(select(Event.action, Event.detail))), key=repr
            ),
        }
        session.rollback()
    return reports, rows


def test_importing_a_chunk_at_a_time_is_importing_all_at_once(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    at_once = imported_in_chunks(session_factory, monkeypatch, 1000)
    reports = at_once[0]
    assert [len(report["changes"]) for report in reports] == [28, 8, 12]
    assert reports[1]["archived"] == 2 + 1  # two participants, an action
    for chunk in (1, 2, 3):
        assert imported_in_chunks(session_factory, monkeypatch, chunk) == at_once
