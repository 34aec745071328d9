"""How rows are shown to templates: action lines, local dates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.model import ActionStatus
from tracker.db.orm import Participant, Update
from tracker.mail.contexts import ActionLine, RecordedUpdate


def local_date(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def action_lines(
    participant: Participant, *, session: Session, open_only: bool
) -> tuple[ActionLine, ...]:
    """The participant's actions as the templates show them, with the last update's note."""
    actions = [
        a
        for a in participant.actions
        if a.archived_at is None and (not open_only or ActionStatus(a.status).is_open)
    ]
    ids = [a.id for a in actions]
    preloaded = session.info.get(_NOTES_KEY)
    if preloaded is not None and preloaded[0].issuperset(ids):
        notes = preloaded[1]
    else:
        notes = _last_notes(session, ids)
    zone = participant.effective_timezone
    return tuple(
        ActionLine(
            ref=action.ref,
            title=action.title,
            due=action.due_on,
            status=ActionStatus(action.status),
            percent=action.percent,
            note=notes.get(action.id, ""),
            updated_on=(
                local_date(action.last_update_at, zone).date() if action.last_update_at else None
            ),
        )
        for action in actions
    )


def recorded_update(update: Update) -> RecordedUpdate:
    """An update as acknowledgements and digests show it."""
    return RecordedUpdate(
        ref=update.action.ref if update.action else None,
        title=update.action.title if update.action else "",
        status=ActionStatus(update.status) if update.status else None,
        percent=update.percent,
        note=update.note,
        question=update.question,
    )


_NOTES_KEY = "tracker.presenting.last_notes"
_CHUNK = 500  # ids in one IN (...): well under every database's parameter limit


def preload_last_notes(session: Session, participants: Iterable[Participant]) -> None:
    """Read the last notes of many participants' actions at once, for `action_lines`
    in this session (a send batch composes many reminders from one read)."""
    ids = [a.id for participant in participants for a in participant.actions]
    notes: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        notes.update(_last_notes(session, ids[start : start + _CHUNK]))
    session.info[_NOTES_KEY] = (frozenset(ids), notes)


def _last_notes(session: Session, action_ids: list[int]) -> dict[int, str]:
    notes: dict[int, str] = {}
    if not action_ids:
        return notes
    rows = session.execute(
        select(Update.action_id, Update.note)
        .where(Update.action_id.in_(action_ids))
        .order_by(Update.at.desc(), Update.id.desc())
    )
    for action_id, note in rows:
        if action_id is not None:
            notes.setdefault(action_id, note)
    return notes
