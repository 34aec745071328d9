"""Questions participants asked in their replies, for the coordinators' overview.

A reply line that asks something ("Could you send me the template?") is
recorded as an update flagged `question` (see `replying`); the digest lists
the week's, and the overview lists the latest ones here, newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.db.orm import Participant, Update

RECENT_QUESTIONS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionRow:
    participant_id: int
    participant_name: str
    at: datetime
    ref: str | None  # the action the question is about, if it was on an action's line
    text: str
    inbound_id: int | None  # the message it came in, if by email


def recent_questions(
    participants: Sequence[Participant], *, session: Session, limit: int = RECENT_QUESTIONS
) -> tuple[QuestionRow, ...]:
    """The latest `limit` questions these participants asked, newest first."""
    by_id = {p.id: p for p in participants}
    if not by_id:
        return ()
    rows = session.scalars(
        select(Update)
        .where(Update.participant_id.in_(by_id), Update.question.is_(True))
        .order_by(Update.at.desc(), Update.id.desc())
        .limit(limit)
        .options(selectinload(Update.action))
    )
    return tuple(
        QuestionRow(
            participant_id=u.participant_id,
            participant_name=by_id[u.participant_id].name,
            at=u.at,
            ref=u.action.ref if u.action else None,
            text=u.note,
            inbound_id=u.inbound_message_id,
        )
        for u in rows
    )
