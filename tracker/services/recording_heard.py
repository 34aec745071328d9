"""Progress a coordinator heard (a call, a meeting), recorded with who recorded it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tracker.db.orm import Event, Participant, Update
from tracker.services.coordinating import record_by_coordinator


def record_heard(
    participant: Participant, text: str, *, session: Session, now: datetime, actor: str
) -> list[Update]:
    """Record `text` (the reply grammar) for `participant`; the audit log names `actor`."""
    rows = record_by_coordinator(participant, text, session=session, now=now)
    session.add(
        Event(
            at=now,
            action="progress.recorded",
            participant_id=participant.id,
            programme_id=participant.programme_id,
            actor=actor,
            detail=f"{len(rows)} update(s), source coordinator",
        )
    )
    return rows
