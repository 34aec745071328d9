"""Planning and `status --json` read participants a page at a time: nobody is missed
at a page's edge (pages of two here, so five participants make three pages)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.sender_helpers import load_programme, outbox, programme_text
from tracker.services import planning, status
from tracker.services.planning import plan_due_reminders
from tracker.services.status import programme_status

DUE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)


def test_a_paged_tick_plans_every_due_participant_once(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planning, "_PAGE", 2)
    text = programme_text(5, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    with session_factory.begin() as session:
        report = plan_due_reminders(session=session, now=DUE)
    assert report.participants_checked == 5
    assert len(report.planned) == 5
    with session_factory.begin() as session:
        assert plan_due_reminders(session=session, now=DUE).planned == ()
    assert [r.kind for r in outbox(session_factory)] == ["check_in"] * 5


def test_paged_status_lists_every_participant_in_order(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status, "_PAGE", 2)
    text = programme_text(5, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    with session_factory() as session:
        document = programme_status(session=session, slug="bulk")
    people = document["programmes"][0]["participants"]
    assert [p["email"] for p in people] == [f"person{n}@example.org" for n in range(5)]
    assert [a["title"] for a in people[4]["actions"]] == ["Action 4"]
