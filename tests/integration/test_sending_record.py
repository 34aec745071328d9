"""Recording `sent` with prebuilt Core statements writes what the ORM statements wrote."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.sender_helpers import IDENTITY, load_programme, programme_text
from tracker.db.orm import Event, Participant, Reminder
from tracker.services.claiming import Claim, OutboxPolicy, PassClock, claim_batch
from tracker.services.planning import REPLAN, plan_due_reminders
from tracker.services.send_outcomes import record_sent

DUE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)


def record_sent_through_the_orm(
    session_factory: sessionmaker[Session], claim: Claim, clock: PassClock
) -> None:
    """The oracle: the statements `record_sent` built for every message before."""
    with session_factory.begin() as session:
        now = clock.now()
        done = session.execute(
            update(Reminder)
            .where(Reminder.id == claim.reminder_id, Reminder.state == "sending")
            .values(state="sent", lease_expires_at=None, last_attempt_at=now, last_error=None,
                    sent_at=now)
            .returning(Reminder.participant_id, Reminder.programme_id, Reminder.message_id)
            .execution_options(synchronize_session=False)
        ).one_or_none()  # fmt: skip
        if done is None:
            return
        participant_id, programme_id, message_id = done
        session.execute(
            insert(Event).values(
                at=now,
                action="reminder.sent",
                participant_id=participant_id,
                programme_id=programme_id,
                reminder_id=claim.reminder_id,
                detail=message_id or "",
            )
        )
        session.execute(
            update(Participant)
            .where(Participant.id == participant_id, Participant.archived_at.is_(None))
            .values(next_due_at=REPLAN)
            .execution_options(synchronize_session=False)
        )


def what_was_written(session_factory: sessionmaker[Session], claim: Claim) -> dict[str, Any]:
    with session_factory() as session:
        reminder = session.get_one(Reminder, claim.reminder_id)
        events = session.scalars(
            select(Event).where(Event.reminder_id == claim.reminder_id).order_by(Event.id)
        )
        return {
            "reminder": {
                name: getattr(reminder, name)
                for name in ("state", "lease_expires_at", "last_attempt_at", "last_error",
                             "sent_at", "attempts", "message_id")
            },
            "events": [
                (e.at, e.action, e.participant_id, e.programme_id, e.detail) for e in events
            ],
            "participant_id": reminder.participant_id,
            "next_due_at": reminder.participant.next_due_at if reminder.participant else None,
        }  # fmt: skip


def test_sent_is_recorded_as_the_orm_statements_recorded_it(
    session_factory: sessionmaker[Session],
) -> None:
    text = programme_text(4, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    with session_factory.begin() as session:
        plan_due_reminders(session=session, now=DUE)
    clock = PassClock(start=DUE, monotonic=lambda: 0.0)  # the same `now` for every record
    claims = claim_batch(session_factory, IDENTITY, clock, OutboxPolicy())
    assert len(claims) == 4
    ours, oracle = claims[:2], claims[2:]
    for claim in ours:
        record_sent(session_factory, claim, clock)
    for claim in oracle:
        record_sent_through_the_orm(session_factory, claim, clock)
    written = [what_was_written(session_factory, claim) for claim in claims]
    assert written[0]["reminder"]["state"] == "sent"
    assert written[0]["reminder"]["sent_at"] == DUE
    assert written[0]["next_due_at"] == REPLAN
    for mine, theirs in zip(written[:2], written[2:], strict=True):
        assert mine["reminder"] == {
            **theirs["reminder"],
            "message_id": mine["reminder"]["message_id"],
        }
        assert [(e[0], e[1], e[3]) for e in mine["events"]] == [
            (e[0], e[1], e[3]) for e in theirs["events"]
        ]
        (_at, action, participant_id, _programme, detail) = mine["events"][-1]
        assert (action, participant_id, detail) == (
            "reminder.sent",
            mine["participant_id"],
            mine["reminder"]["message_id"],
        )
        assert mine["next_due_at"] == theirs["next_due_at"]
    # A second record of the same claim changes nothing (the row is no longer sending).
    record_sent(session_factory, ours[0], PassClock(start=DUE + timedelta(hours=1)))
    assert what_was_written(session_factory, ours[0]) == written[0]
