"""Recording progress: updates in, action status derived from them.

An action's status, percent and last-update time are always derived from its
update history, in the order things were said: by `at` (when the participant
sent it, or the coordinator recorded it), then by when the message carrying
it was received, then line by line. So reprocessing a message (its old
updates deleted, new ones recorded), an old message assigned late, or
updates arriving out of order can never leave an action in a state its
history does not explain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.core.model import ActionStatus, UpdateSource
from tracker.db.orm import Action, InboundMessage, Participant, Update
from tracker.services.planning import mark_for_planning


@dataclass(frozen=True, slots=True, kw_only=True)
class NewUpdate:
    """One piece of progress to record; `action` None for a general update."""

    action: Action | None
    status: ActionStatus | None
    percent: int | None
    note: str
    question: bool = False  # the participant asks the coordinators something here


def record_updates(
    participant: Participant,
    updates: Sequence[NewUpdate],
    *,
    session: Session,
    at: datetime,
    source: UpdateSource,
    now: datetime,
    reminder_id: int | None = None,
    inbound_message_id: int | None = None,
) -> list[Update]:
    """Add the updates, re-derive the touched actions, and mark the participant for planning."""
    rows = [
        Update(
            participant_id=participant.id,
            action_id=item.action.id if item.action is not None else None,
            reminder_id=reminder_id,
            inbound_message_id=inbound_message_id,
            at=at,
            status=item.status.value if item.status is not None else None,
            percent=item.percent,
            note=item.note,
            source=source.value,
            recorded_at=now,
            question=item.question,
        )
        for item in updates
    ]
    session.add_all(rows)
    session.flush()
    derive_action_state(
        [item.action for item in updates if item.action is not None], session=session
    )
    if participant.last_reply_at is None or participant.last_reply_at < at:
        participant.last_reply_at = at
    mark_for_planning(participant)
    return rows


# The order things were said in: when said; at the same moment, the message
# received first (a coordinator's update counts as received when recorded);
# then the order of the lines.
SAID_ORDER = (
    Update.at,
    func.coalesce(InboundMessage.received_at, Update.recorded_at),
    Update.id,
)


def update_summary(update: Update) -> dict[str, Any]:
    """One recorded update as commands and results show it."""
    return {
        "ref": update.action.ref if update.action else None,
        "status": update.status,
        "percent": update.percent,
        "note": update.note,
        "question": update.question,
    }


def derive_action_state(actions: Iterable[Action], *, session: Session) -> None:
    """Set status, percent and last_update_at of each action from its update history.

    One query reads the histories of all the actions, each in the order things
    were said; only what decides the state is read.
    """
    by_id = {a.id: a for a in actions}
    if not by_id:
        return
    said = session.execute(
        select(Update.action_id, Update.status, Update.percent, Update.at)
        .outerjoin(InboundMessage, Update.inbound_message_id == InboundMessage.id)
        .where(Update.action_id.in_(by_id))
        .order_by(Update.action_id, *SAID_ORDER)
    ).tuples()
    last_said: dict[int, datetime] = {}
    # The latest update that states a status decides status and percent together
    # ("blocked" after "in progress 60%" leaves no percentage); a note-only update
    # changes neither.
    stated: dict[int, tuple[str, int | None]] = {}
    for action_id, status, percent, at in said:
        assert action_id is not None
        last_said[action_id] = at
        if status is not None:
            stated[action_id] = (status, percent)
    for action_id, action in by_id.items():
        status, percent = stated.get(action_id, ("", None))
        action.status = status or "not_started"
        action.percent = percent
        action.last_update_at = last_said.get(action_id)
