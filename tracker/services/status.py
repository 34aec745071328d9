"""Where every participant and action stands: the data behind `tracker status`.

Each participant also lists the messages to or about them that failed or wait
to be retried (`failed_sends`), so that a reminder that gave up is seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.orm import Action, Participant, Programme, Update
from tracker.errors import NotFoundError
from tracker.services.outbox import OutboxEntry, undelivered
from tracker.services.roster import current_participant_pages


def programme_status(*, session: Session, slug: str | None = None) -> dict[str, Any]:
    """The CONTRACT's `tracker status --json` document."""
    return {
        "programmes": [
            {**programme, "participants": list(programme["participants"])}
            for programme in streamed_status(session=session, slug=slug)
        ]
    }


def streamed_status(*, session: Session, slug: str | None = None) -> Iterator[dict[str, Any]]:
    """The programmes of `programme_status`, each with its participants as an iterator
    that reads them a page at a time (memory bounded by the page, not the programme).

    Raises NotFoundError, before yielding anything, for an unknown slug.
    """
    query = select(Programme).order_by(Programme.slug)
    if slug is not None:
        query = query.where(Programme.slug == slug)
    programmes = list(session.scalars(query))
    if slug is not None and not programmes:
        raise NotFoundError(f"no programme with slug {slug!r}")
    for programme in programmes:
        yield {
            "slug": programme.slug,
            "name": programme.name,
            "participants": _participants(programme.id, session=session),
        }


_PAGE = 500  # participants read together


def _participants(programme_id: int, *, session: Session) -> Iterator[dict[str, Any]]:
    for page in current_participant_pages(programme_id, session=session, page_size=_PAGE):
        last_updates = _last_update_by_action(
            [a.id for p in page for a in p.actions], session=session
        )
        troubles = undelivered(session=session, participant_ids=[p.id for p in page])
        for p in page:
            yield {
                "email": p.email,
                "name": p.name,
                "organisation": p.organisation,
                "state": p.state,
                "paused_until": _resume_day(p),
                "last_reply_at": p.last_reply_at.isoformat() if p.last_reply_at else None,
                "actions": [
                    _action(a, last_updates.get(a.id)) for a in p.actions if a.archived_at is None
                ],
                "failed_sends": [_failed_send(e) for e in troubles.get(p.id, [])],
            }


def _resume_day(participant: Participant) -> str | None:
    """The local day a pause with an end resumes on (ISO date), else None."""
    if participant.paused_until is None:
        return None
    zone = ZoneInfo(participant.effective_timezone)
    return participant.paused_until.astimezone(zone).date().isoformat()


def _action(action: Action, last: Update | None) -> dict[str, Any]:
    return {
        "ref": action.ref,
        "title": action.title,
        "due": action.due_on.isoformat(),
        "status": action.status,
        "percent": action.percent,
        "last_update": (
            {"at": last.at.isoformat(), "note": last.note, "source": last.source} if last else None
        ),
    }


def _failed_send(entry: OutboxEntry) -> dict[str, Any]:
    """A message to or about the participant that failed or waits to be retried."""
    return {
        "id": entry.id,
        "kind": entry.kind,
        "error": entry.error,
        "at": entry.at.isoformat(),
        "state": entry.state,  # failed | retrying
        "retry_at": entry.next_attempt_at.isoformat() if entry.next_attempt_at else None,
    }


def _last_update_by_action(action_ids: list[int], *, session: Session) -> dict[int, Update]:
    latest: dict[int, Update] = {}
    if not action_ids:
        return latest
    rows = session.scalars(
        select(Update)
        .where(Update.action_id.in_(action_ids))
        .order_by(Update.at.desc(), Update.id.desc())
    )
    for update in rows:
        assert update.action_id is not None
        latest.setdefault(update.action_id, update)
    return latest
