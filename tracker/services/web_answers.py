"""Answers given on a participant's personal page (``/u/<token>``).

One submit records one update per changed action, with source ``web``,
through the same recording as email replies (`record_updates`), keeps the
files uploaded with it, and plans the same acknowledgement. The submit
itself is a row (`WebSubmission`): the updates and files point to it, and the
audit log says the answer came through the personal link, not from the
participant's mailbox (a forwarded link works for whoever holds it).
Submits are rate-limited per participant and per client address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.core.model import ActionStatus, UpdateSource
from tracker.core.page_answers import settle_row
from tracker.db.orm import Action, Event, Participant, Update, WebSubmission
from tracker.errors import TrackerError
from tracker.inbound.attachments import AttachedFile
from tracker.services.acknowledging import queue_web_acknowledgement
from tracker.services.attachments import AttachmentLimits, keep_files
from tracker.services.recording import NewUpdate, record_updates

RATE_WINDOW = timedelta(hours=1)
MAX_SUBMITS_PER_PARTICIPANT = 10  # in RATE_WINDOW
MAX_SUBMITS_PER_ADDRESS = 30  # in RATE_WINDOW: one office may share an address
MAX_NOTE_LENGTH = 2000


class TooManyAnswers(TrackerError):
    """Submitted too often: try again later."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RowInput:
    """What the page's row for one action sent."""

    action_id: int
    status: ActionStatus | None
    percent: int | None
    note: str = ""
    file: AttachedFile | None = None


@dataclass(slots=True)
class PageOutcome:
    submission_id: int | None = None
    updates: int = 0
    files_kept: list[str] = field(default_factory=list)
    files_not_kept: list[str] = field(default_factory=list)


def open_actions(participant: Participant) -> list[Action]:
    """The actions the page asks about: not archived, not done, not dropped."""
    return [
        a for a in participant.actions if a.archived_at is None and ActionStatus(a.status).is_open
    ]


def earlier_updates(participant: Participant, *, session: Session, limit: int = 30) -> list[Update]:
    """What the participant reported before (any source), newest first."""
    return list(
        session.scalars(
            select(Update)
            .where(Update.participant_id == participant.id)
            .order_by(Update.at.desc(), Update.id.desc())
            .limit(limit)
        )
    )


def record_page_answer(
    participant: Participant,
    rows: Sequence[RowInput],
    *,
    address: str,
    session: Session,
    now: datetime,
    limits: AttachmentLimits,
) -> PageOutcome:
    """Record one submit of the personal page.

    1. Too many submits in the last hour (this participant, or this address):
       TooManyAnswers, nothing recorded.
    2. Each row of an open action is settled (`settle_row`); rows that change
       nothing are skipped, rows of other actions are ignored.
    3. Nothing changed: nothing recorded (no submit row, no acknowledgement).
    4. The updates (source web) and files are recorded under one submit; the
       acknowledgement is planned when the programme sends them.
    """
    _check_rate(participant, address, session=session, now=now)
    actions = {a.id: a for a in open_actions(participant)}
    new: list[NewUpdate] = []
    files: list[tuple[AttachedFile, Action | None]] = []
    for row in rows:
        action = actions.get(row.action_id)
        if action is None:
            continue
        answer = settle_row(
            current_status=ActionStatus(action.status),
            current_percent=action.percent,
            status=row.status,
            percent=row.percent,
            note=row.note[:MAX_NOTE_LENGTH],
            has_file=row.file is not None,
        )
        if answer is None:
            continue
        new.append(
            NewUpdate(action=action, status=answer.status, percent=answer.percent, note=answer.note)
        )
        if row.file is not None:
            files.append((row.file, action))
    if not new:
        return PageOutcome()
    submission = WebSubmission(participant_id=participant.id, at=now, address=address[:64])
    session.add(submission)
    session.flush()
    recorded = record_updates(
        participant, new, session=session, at=now, source=UpdateSource.WEB, now=now
    )
    for update in recorded:
        update.web_submission_id = submission.id
    kept = keep_files(
        participant,
        files,
        limits=limits,
        session=session,
        now=now,
        web_submission_id=submission.id,
    )
    if participant.programme.acknowledge_replies:
        queue_web_acknowledgement(participant, submission.id, session=session, now=now)
    session.add(
        Event(
            at=now,
            action="participant.page_answer",
            programme_id=participant.programme_id,
            participant_id=participant.id,
            detail=(
                f"{len(recorded)} update(s) through the personal link (not the mailbox)"
                + (f"; {len(kept.kept)} file(s) kept" if kept.kept else "")
                + (f"; {len(kept.not_kept)} file(s) too large" if kept.not_kept else "")
            ),
        )
    )
    return PageOutcome(
        submission_id=submission.id,
        updates=len(recorded),
        files_kept=kept.kept,
        files_not_kept=kept.not_kept,
    )


def _check_rate(participant: Participant, address: str, *, session: Session, now: datetime) -> None:
    since = now - RATE_WINDOW
    counts = session.execute(
        select(
            func.count().filter(WebSubmission.participant_id == participant.id),
            func.count().filter(WebSubmission.address == address[:64]),
        ).where(
            WebSubmission.at > since,
            or_(
                WebSubmission.participant_id == participant.id,
                WebSubmission.address == address[:64],
            ),
        )
    ).one()
    if counts[0] >= MAX_SUBMITS_PER_PARTICIPANT or counts[1] >= MAX_SUBMITS_PER_ADDRESS:
        raise TooManyAnswers("too many answers in the last hour: please try again later")
