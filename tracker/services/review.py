"""What coordinators look at and decide: held messages, the update history."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from tracker.core.model import InboundState
from tracker.db.orm import Event, InboundMessage, Participant, Programme, Reminder, Update
from tracker.errors import NotFoundError, TrackerError
from tracker.inbound.parse import parse_message
from tracker.services.coordinating import find_participant
from tracker.services.intake import IntakeResult, intake_result, process_inbound
from tracker.services.replying import MAX_MESSAGE_BYTES, apply_reply

log = logging.getLogger(__name__)


def held_messages(*, session: Session) -> dict[str, Any]:
    """The CONTRACT's `tracker review --json` document, oldest first."""
    rows = session.scalars(
        select(InboundMessage)
        .where(InboundMessage.state == InboundState.HELD.value)
        .order_by(InboundMessage.received_at, InboundMessage.id)
    )
    return {
        "held": [
            {
                "id": row.id,
                "received_at": row.received_at.isoformat(),
                "from": row.from_address,
                "subject": row.subject,
                "reason": row.hold_reason,
                "detail": row.detail,
            }
            for row in rows
        ]
    }


def assign_held(
    inbound_id: int,
    email: str,
    *,
    slug: str | None,
    session: Session,
    now: datetime,
    actor: str = "cli",
) -> IntakeResult:
    """A coordinator vouches for a held message: apply it to this participant."""
    inbound = _held(inbound_id, session=session)
    participant = find_participant(email, slug=slug, session=session)
    parsed = parse_message(inbound.raw, max_bytes=MAX_MESSAGE_BYTES)
    # The reminder it answered counts as answered only if it went to this participant.
    reminder = (
        session.get(Reminder, inbound.reminder_id)
        if inbound.reminder_id is not None and inbound.participant_id == participant.id
        else None
    )
    outcome = apply_reply(inbound, parsed, participant, reminder, session=session, now=now)
    inbound.state = InboundState.PROCESSED.value
    inbound.detail = f"assigned by a coordinator (was {inbound.hold_reason}); {outcome.detail}"
    inbound.hold_reason = None
    inbound.processed_at = now
    session.add(
        Event(
            at=now,
            action="inbound.assigned",
            participant_id=participant.id,
            inbound_message_id=inbound.id,
            detail=inbound.detail,
            actor=actor,
        )
    )
    result = intake_result(inbound, duplicate=False, session=session)
    result.updates = outcome.updates
    return result


def discard_held(inbound_id: int, *, session: Session, now: datetime, actor: str = "cli") -> None:
    """A coordinator throws a held message away (it stays stored, for the record)."""
    inbound = _held(inbound_id, session=session)
    inbound.state = InboundState.DISCARDED.value
    inbound.detail = f"discarded by a coordinator (was {inbound.hold_reason})"
    session.add(
        Event(at=now, action="inbound.discarded", inbound_message_id=inbound.id, actor=actor)
    )


def update_history(
    *, session: Session, slug: str | None = None, email: str | None = None
) -> dict[str, Any]:
    """The CONTRACT's `tracker updates --json` document, oldest first."""
    query = (
        select(Update, Participant, Programme, InboundMessage.message_id)
        .join(Participant, Update.participant_id == Participant.id)
        .join(Programme, Participant.programme_id == Programme.id)
        .outerjoin(InboundMessage, Update.inbound_message_id == InboundMessage.id)
        .options(selectinload(Update.action))
        .order_by(Update.at, Update.id)
    )
    if slug is not None:
        if session.scalar(select(Programme.id).where(Programme.slug == slug)) is None:
            raise NotFoundError(f"no programme with slug {slug!r}")
        query = query.where(Programme.slug == slug)
    if email is not None:
        query = query.where(Participant.email == email.strip().lower())
    return {
        "updates": [
            {
                "at": update.at.isoformat(),
                "programme": programme.slug,
                "participant": participant.email,
                "ref": update.action.ref if update.action else None,
                "status": update.status,
                "percent": update.percent,
                "note": update.note,
                "source": update.source,
                "message_id": message_id,
            }
            for update, participant, programme, message_id in session.execute(query)
        ]
    }


def process_stored(
    *, session_factory: sessionmaker[Session], secret_key: str, now: datetime
) -> list[IntakeResult]:
    """Interpret every message stored but not yet processed, each in its own transaction.

    A message whose processing fails stays stored (logged) and the others go on.
    """
    with session_factory() as session:
        ids = list(
            session.scalars(
                select(InboundMessage.id)
                .where(InboundMessage.state == InboundState.STORED.value)
                .order_by(InboundMessage.id)
            )
        )
    return reprocess(ids, session_factory=session_factory, secret_key=secret_key, now=now)


def reprocess(
    ids: list[int], *, session_factory: sessionmaker[Session], secret_key: str, now: datetime
) -> list[IntakeResult]:
    """Interpret the given stored messages again, replacing what they recorded before."""
    results: list[IntakeResult] = []
    for inbound_id in ids:
        try:
            with session_factory.begin() as session:
                inbound = session.get(InboundMessage, inbound_id)
                if inbound is None:
                    raise NotFoundError(f"no inbound message {inbound_id}")
                if inbound.state == InboundState.DISCARDED.value:
                    continue
                results.append(
                    process_inbound(inbound, session=session, secret_key=secret_key, now=now)
                )
        except TrackerError:
            raise
        except Exception:
            log.exception("action=inbound.process_failed inbound=%s", inbound_id)
    return results


def _held(inbound_id: int, *, session: Session) -> InboundMessage:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise NotFoundError(f"no inbound message {inbound_id}")
    if inbound.state != InboundState.HELD.value:
        raise TrackerError(f"message {inbound_id} is not held for review (it is {inbound.state})")
    return inbound
