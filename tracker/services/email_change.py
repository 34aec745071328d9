"""A participant's new email address: the same person, with all their history.

Reminders, updates, inbound messages and events refer to the participant's
row, not to an address, so changing the address on the row keeps every link.
Reminders not yet sent go to the new address. Messages that arrived from the
old address stay as they were received.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.addresses import normalise_email
from tracker.db.orm import Event, Participant
from tracker.errors import TrackerError


def change_participant_email(
    participant: Participant,
    new_email: str,
    *,
    session: Session,
    now: datetime,
    by: str = "a coordinator",
) -> str:
    """Give `participant` the address `new_email`; return the old one.

    Raises TrackerError, changing nothing, when the address is not one, is
    already theirs, or belongs to someone else in the programme (archived
    participants included: their history would be merged by mistake).
    The change is recorded in the event log as `participant.email_changed`.
    """
    try:
        new = normalise_email(new_email)
    except ValueError as error:
        raise TrackerError(f"the new address: {error}") from None
    old = participant.email
    if new == old:
        raise TrackerError(f"{old} already has that address")
    taken = session.scalar(
        select(Participant).where(
            Participant.programme_id == participant.programme_id, Participant.email == new
        )
    )
    if taken is not None:
        archived = " (archived)" if taken.archived_at is not None else ""
        raise TrackerError(
            f"{new} is already the address of {taken.name}{archived} in this programme"
        )
    participant.email = new
    participant.updated_at = now
    session.add(
        Event(
            at=now,
            action="participant.email_changed",
            participant_id=participant.id,
            programme_id=participant.programme_id,
            detail=f"{old} → {new}, by {by}",
        )
    )
    return old
