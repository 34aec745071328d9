"""A programme's current participants: the one query every page, report and digest starts from."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, select
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
    query = _current(programme_id).order_by(*order)
    if with_programme:
        query = query.options(selectinload(Participant.programme))
    return list(session.scalars(query))


def current_participant_pages(
    programme_id: int, *, session: Session, page_size: int = 500
) -> Iterator[list[Participant]]:
    """The same participants a page at a time, by id (keyset paging), for work
    whose memory must not grow with the programme (`status --json`)."""
    after_id = 0
    while True:
        query = _current(programme_id).where(Participant.id > after_id)
        page = list(session.scalars(query.order_by(Participant.id).limit(page_size)))
        if not page:
            return
        after_id = page[-1].id
        yield page


def _current(programme_id: int) -> Select[tuple[Participant]]:
    return (
        select(Participant)
        .where(Participant.programme_id == programme_id, Participant.archived_at.is_(None))
        .options(selectinload(Participant.actions))
    )
