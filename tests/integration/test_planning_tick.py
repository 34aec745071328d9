"""A planning tick stores, for every participant it plans, the next due moment the
pure planner gives on the facts the tick leaves behind.

The tick reads plain rows and updates each participant's plan with what it
inserted; the check here reads the ORM objects afresh (`facts_for`) and asks
`rules.next_due` from scratch, so the two paths must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.sender_helpers import EXAMPLE, load_programme
from tracker.core.rules import next_due
from tracker.db.orm import Participant, Programme, Reminder
from tracker.services.planner_facts import rules_of
from tracker.services.planning import facts_for, mark_for_planning, plan_due_reminders

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
TICKS = [
    datetime(2019, 6, 1, tzinfo=UTC),
    datetime(2019, 6, 24, 2, 0, tzinfo=UTC),  # the first check-in, 10:00 in Beijing
    datetime(2019, 6, 24, 8, 0, tzinfo=UTC),  # ...and in Berlin
    datetime(2019, 7, 23, 2, 0, tzinfo=UTC),  # the second check-in
    datetime(2019, 7, 24, 2, 0, tzinfo=UTC),  # two unanswered: escalations
    datetime(2019, 9, 23, 2, 0, tzinfo=UTC),  # before due
    datetime(2019, 10, 8, 2, 0, tzinfo=UTC),  # overdue
]


def test_each_tick_stores_the_next_due_moment_of_the_facts_it_leaves(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, EXAMPLE.read_text(encoding="utf-8"), now=IMPORTED)
    with session_factory.begin() as session:
        people = list(session.scalars(select(Participant).order_by(Participant.id)))
        people[1].state = "paused"
        people[2].timezone, people[2].country = "Europe/Berlin", "DE"
        people[3].actions[0].archived_at = IMPORTED
        people[4].actions[0].status = "done"
        people[5].actions[0].last_update_at = datetime(2019, 10, 1, 1, tzinfo=UTC)
        people[6].last_reply_at = datetime(2019, 6, 25, tzinfo=UTC)
    for now in TICKS:
        with session_factory.begin() as session:
            for person in session.scalars(select(Participant)):
                mark_for_planning(person)  # everyone is looked at
            watched = session.get(Participant, people[0].id)
            assert watched is not None
            plan_due_reminders(session=session, now=now)
            # The participants already in the session see what was stored.
            kept = watched.next_due_at
        with session_factory.begin() as session:
            programme = session.scalars(select(Programme)).one()
            rules = rules_of(programme.rules)
            everyone = list(session.scalars(select(Participant).order_by(Participant.id)))
            facts = facts_for(everyone, session=session)
            stored = {p.id: p.next_due_at for p in everyone}
            assert stored == {p.id: next_due(rules, facts[p.id], now=now) for p in everyone}
            assert kept == stored[people[0].id]
            assert stored[people[1].id] is None  # paused
            # The sender sends everything planned; nobody answers.
            session.execute(
                update(Reminder)
                .where(Reminder.state == "planned")
                .values(state="sent", sent_at=Reminder.scheduled_at)
            )
