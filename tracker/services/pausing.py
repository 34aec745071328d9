"""Pausing a participant, optionally until a date, and ending pauses whose date has come.

A pause with an end stores the moment it ends: the start of that day in the
participant's time zone. The sending pass calls `resume_due_pauses` before it
plans, so the participant is active again, and planned for, on that day
without anyone acting.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.model import ParticipantState
from tracker.db.orm import Event, Participant
from tracker.errors import TrackerError
from tracker.services.coordinating import set_participant_state

log = logging.getLogger(__name__)


def pause_participant(
    participant: Participant,
    *,
    until: date | None,
    session: Session,
    now: datetime,
    actor: str,
) -> None:
    """Send them nothing until resumed, or until the start of `until` in their time zone.

    An already paused participant keeps their pause with the new end (or none).
    """
    zone = ZoneInfo(participant.effective_timezone)
    if until is not None and until <= now.astimezone(zone).date():
        raise TrackerError(f"the day to resume on must be after today ({until.isoformat()} is not)")
    if participant.state == ParticipantState.PAUSED.value:
        session.add(
            Event(
                at=now,
                action="participant.paused",
                participant_id=participant.id,
                programme_id=participant.programme_id,
                detail=f"until {until.isoformat()}" if until else "until resumed",
                actor=actor,
            )
        )
    else:
        set_participant_state(
            participant, ParticipantState.PAUSED, session=session, now=now, actor=actor
        )
    participant.paused_until = (
        datetime.combine(until, time(0, 0), zone) if until is not None else None
    )


def resume_due_pauses(*, session: Session, now: datetime) -> int:
    """Make active again every participant whose pause has ended by `now`; the caller commits."""
    due = list(
        session.scalars(
            select(Participant)
            .where(
                Participant.state == ParticipantState.PAUSED.value,
                Participant.paused_until <= now,
                Participant.archived_at.is_(None),
            )
            .order_by(Participant.id)
        )
    )
    for participant in due:
        set_participant_state(
            participant, ParticipantState.ACTIVE, session=session, now=now, actor="system"
        )
        log.info("action=participant.pause_ended participant=%s", participant.id)
    return len(due)
