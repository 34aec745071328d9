"""The outbox as people see it: what waits, what is being retried, what failed.

`list_outbox` and `retry_failed` back `tracker outbox` and the web app;
`undelivered` feeds `tracker status` and the weekly digest, so that no message
that gave up, or keeps failing, goes unnoticed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from tracker.db.orm import Event, Participant, Programme, Reminder
from tracker.errors import NotFoundError, TrackerError

LISTED_STATES = ("planned", "sending", "failed", "sent", "cancelled")
WAITING_STATES = ("planned", "sending", "failed")  # what `tracker outbox` shows by default


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEntry:
    """One outgoing message and where it stands.

    `state` is the row's, except that a planned row that has failed before
    and waits for its next attempt reads `retrying`.
    """

    id: int
    kind: str
    state: str
    programme: str  # slug
    participant: str | None  # the participant it is to or about; None for a digest
    to: tuple[str, ...]
    scheduled_at: datetime
    next_attempt_at: datetime | None  # planned and retrying rows
    attempts: int
    last_attempt_at: datetime | None
    sent_at: datetime | None
    error: str | None
    message_id: str | None

    @property
    def at(self) -> datetime:
        """When it last happened: sent, last tried, else planned for."""
        return self.sent_at or self.last_attempt_at or self.scheduled_at

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "programme": self.programme,
            "participant": self.participant,
            "to": list(self.to),
            "scheduled_at": self.scheduled_at.isoformat(),
            "next_attempt_at": _iso(self.next_attempt_at),
            "attempts": self.attempts,
            "last_attempt_at": _iso(self.last_attempt_at),
            "sent_at": _iso(self.sent_at),
            "error": self.error,
            "message_id": self.message_id,
        }


@dataclass(frozen=True, slots=True)
class OutboxListing:
    entries: tuple[OutboxEntry, ...]
    total: int  # rows in the chosen states, of which `entries` is the first `limit`


def list_outbox(
    *,
    session: Session,
    states: Collection[str] = WAITING_STATES,
    programme: str | None = None,
    limit: int = 200,
) -> OutboxListing:
    """Messages in `states`: failed and retrying first, then by when they are due."""
    unknown = set(states) - set(LISTED_STATES)
    if unknown:
        raise TrackerError(f"no outbox state {sorted(unknown)[0]!r}")
    query = select(Reminder).where(Reminder.state.in_(list(states)))
    if programme is not None:
        programme_id = session.scalar(select(Programme.id).where(Programme.slug == programme))
        if programme_id is None:
            raise NotFoundError(f"no programme with slug {programme!r}")
        query = query.where(
            or_(
                Reminder.programme_id == programme_id,
                Reminder.participant_id.in_(
                    select(Participant.id).where(Participant.programme_id == programme_id)
                ),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    troubled = or_(Reminder.state == "failed", _retrying())
    rows = session.scalars(
        query.order_by(troubled.desc(), Reminder.next_attempt_at, Reminder.id)
        .limit(limit)
        .options(*_loads())
    )
    return OutboxListing(entries=tuple(_entry(r) for r in rows), total=int(total))


def undelivered(
    *, session: Session, participant_ids: Sequence[int], failed_since: datetime | None = None
) -> dict[int, list[OutboxEntry]]:
    """Per participant: messages to or about them that failed (since `failed_since`,
    when given) or are waiting to be tried again after a failure."""
    if not participant_ids:
        return {}
    failed = Reminder.state == "failed"
    if failed_since is not None:
        failed = and_(failed, Reminder.last_attempt_at >= failed_since)
    rows = session.scalars(
        select(Reminder)
        .where(Reminder.participant_id.in_(list(participant_ids)), or_(failed, _retrying()))
        .order_by(Reminder.last_attempt_at, Reminder.id)
        .options(*_loads())
    )
    found: dict[int, list[OutboxEntry]] = defaultdict(list)
    for reminder in rows:
        assert reminder.participant_id is not None
        found[reminder.participant_id].append(_entry(reminder))
    return dict(found)


def retry_failed(
    *, session: Session, ids: Sequence[int] | None, now: datetime, actor: str = "cli"
) -> list[int]:
    """Put failed messages back in the outbox, due now and with every attempt ahead
    of them; `ids=None` retries every failed message. Returns the ids put back.

    Raises NotFoundError for an unknown id, TrackerError for a message that has
    not failed (only failed messages can be retried).
    """
    if ids is None:
        chosen = list(session.scalars(select(Reminder).where(Reminder.state == "failed")))
    else:
        found = {r.id: r for r in session.scalars(select(Reminder).where(Reminder.id.in_(ids)))}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFoundError(f"no outgoing message {missing[0]}")
        not_failed = [found[i] for i in ids if found[i].state != "failed"]
        if not_failed:
            first = not_failed[0]
            raise TrackerError(
                f"message {first.id} is {first.state}, not failed: only failed messages "
                "can be retried"
            )
        chosen = [found[i] for i in dict.fromkeys(ids)]
    for reminder in chosen:
        session.execute(
            update(Reminder)
            .where(Reminder.id == reminder.id, Reminder.state == "failed")
            .values(state="planned", attempts=0, next_attempt_at=now, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
        session.add(
            Event(
                at=now,
                action="reminder.requeued",
                participant_id=reminder.participant_id,
                programme_id=reminder.programme_id,
                reminder_id=reminder.id,
                detail=f"after: {reminder.last_error or 'failed'}",
                actor=actor,
            )
        )
    return [r.id for r in chosen]


def _retrying() -> Any:
    return and_(
        Reminder.state == "planned", Reminder.attempts > 0, Reminder.last_error.is_not(None)
    )


def _loads() -> tuple[Any, ...]:
    return (
        selectinload(Reminder.participant)
        .selectinload(Participant.programme)
        .selectinload(Programme.coordinators),
        selectinload(Reminder.programme).selectinload(Programme.coordinators),
    )


def _entry(reminder: Reminder) -> OutboxEntry:
    participant = reminder.participant
    programme = reminder.programme or reminder.about.programme
    to = (
        tuple(c.email for c in programme.coordinators)
        if reminder.audience == "coordinators"
        else (reminder.about.email,)
    )
    retrying = reminder.state == "planned" and reminder.attempts > 0 and bool(reminder.last_error)
    waiting = reminder.state == "planned"
    return OutboxEntry(
        id=reminder.id,
        kind=reminder.kind,
        state="retrying" if retrying else reminder.state,
        programme=programme.slug,
        participant=participant.email if participant else None,
        to=to,
        scheduled_at=reminder.scheduled_at,
        next_attempt_at=reminder.next_attempt_at if waiting else None,
        attempts=reminder.attempts,
        last_attempt_at=reminder.last_attempt_at,
        sent_at=reminder.sent_at,
        error=reminder.last_error if reminder.state != "sent" else None,
        message_id=reminder.message_id,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
