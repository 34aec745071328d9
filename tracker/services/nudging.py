"""Send a reminder now: a coordinator asks for a check-in outside the schedule.

It goes through the outbox like any reminder, with its own unique key
(`nudge:p{participant}:{request}`), so the same request (a form sent twice, a
retried command) plans one message, which the next sending pass sends once
and which then shows in the participant's timeline. The planner ignores these
keys for its series, and counts the message as a sent reminder for escalation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.model import ActionStatus, ParticipantState, ReminderKind
from tracker.db.orm import Event, Participant, Reminder, ReminderItem
from tracker.db.session import insert_for
from tracker.errors import TrackerError

_REQUEST = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestedReminder:
    reminder_id: int
    created: bool  # False: this request had planned it already


def request_reminder(
    participant: Participant, *, request: str, session: Session, now: datetime, actor: str
) -> RequestedReminder:
    """Plan a check-in to `participant` due at once, keyed by `request` (8–64 of [A-Za-z0-9_-])."""
    if not _REQUEST.fullmatch(request):
        raise TrackerError("a reminder request needs a key of 8 to 64 letters, digits, - or _")
    key = f"nudge:p{participant.id}:{request}"
    existing = session.scalar(select(Reminder.id).where(Reminder.occurrence_key == f"msg:{key}"))
    if existing is not None:
        return RequestedReminder(reminder_id=existing, created=False)
    if participant.archived_at is not None or participant.state != ParticipantState.ACTIVE.value:
        raise TrackerError(
            f"{participant.email} receives no reminders ({participant.state}): resume them first"
        )
    if not any(
        a.archived_at is None and ActionStatus(a.status).is_open for a in participant.actions
    ):
        raise TrackerError(f"{participant.email} has no open action to ask about")
    waiting = session.scalar(
        select(Reminder.id).where(
            Reminder.participant_id == participant.id,
            Reminder.occurrence_key.like(f"msg:nudge:p{participant.id}:%"),
            Reminder.state.in_(("planned", "sending")),
        )
    )
    if waiting is not None:
        raise TrackerError(f"a reminder to {participant.email} is already waiting to go out")
    reminder_id = session.execute(
        insert_for(session)(Reminder)
        .values(
            occurrence_key=f"msg:{key}",
            participant_id=participant.id,
            audience="participant",
            kind=ReminderKind.CHECK_IN.value,
            local_date=now.astimezone(ZoneInfo(participant.effective_timezone)).date(),
            scheduled_at=now,
            next_attempt_at=now,
            state="planned",
            attempts=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["occurrence_key"])
        .returning(Reminder.id)
    ).scalar_one_or_none()
    if reminder_id is None:  # a concurrent request with the same key won
        won = session.scalar(select(Reminder.id).where(Reminder.occurrence_key == f"msg:{key}"))
        assert won is not None
        return RequestedReminder(reminder_id=won, created=False)
    session.add(ReminderItem(reminder_id=reminder_id, occurrence_key=key, kind="check_in"))
    session.add(
        Event(
            at=now,
            action="reminder.requested",
            participant_id=participant.id,
            programme_id=participant.programme_id,
            reminder_id=reminder_id,
            actor=actor,
            detail="a check-in, sent with the next sending pass",
        )
    )
    return RequestedReminder(reminder_id=reminder_id, created=True)
