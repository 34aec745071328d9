"""Importing programme files into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.db.orm import Action, Participant, Programme
from tracker.programme.reading import read_programme_file
from tracker.services.importing import ImportReport, import_programme
from tracker.services.planning import REPLAN
from tracker.services.status import programme_status

ROOT = Path(__file__).resolve().parents[2]
SMALL = (ROOT / "tests/data/programmes/small.yaml").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "examples/programme.yaml").read_text(encoding="utf-8")
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
    assert report.created == 1 + 2 + 9 + 19  # programme, coordinators, participants, actions
    with session_factory() as session:
        document = programme_status(session=session)
    (programme,) = document["programmes"]
    assert programme["slug"] == "clean-air-2019-china"
    assert len(programme["participants"]) == 9
    first = programme["participants"][0]
    assert first["state"] == "active"
    assert first["actions"][0] == {
        "ref": "1",
        "title": "发布西城区清洁空气行动计划",
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
    assert report.changes == ["action 2 of wang.xiaoming@example.org: title, due"]
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
    assert sorted(report.changes) == [
        "action 2 of wang.xiaoming@example.org: restored",
        "participant anna@example.org: restored",
    ]


def test_changed_rules_replace_the_old_ones(session_factory: sessionmaker[Session]) -> None:
    load(session_factory, SMALL)
    report = load(session_factory, SMALL.replace("max: 3", "max: 5"), now=JUNE)
    assert report.changes == ["follow-up rules: 4 rule(s) set"]
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
