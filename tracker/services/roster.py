"""A programme's current participants: the one query every page, report and digest starts from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.db.orm import Participant


def current_participants(
    programme_id: int,
    *,
    session: Session,
    order: Sequence[Any] = (Participant.id,),
    with_programme: bool = False,
) -> list[Participant]:
    """The programme's participants who are not archived, in `order`, their actions
    loaded (and their programme, when asked: the planner's facts need it)."""
    query = (
        select(Participant)
        .where(Participant.programme_id == programme_id, Participant.archived_at.is_(None))
        .order_by(*order)
        .options(selectinload(Participant.actions))
    )
    if with_programme:
        query = query.options(selectinload(Participant.programme))
    return list(session.scalars(query))
