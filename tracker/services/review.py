"""What coordinators look at and decide: held and failed messages, the update history.

Each function returns records or documents, never text: the commands and the
web app present them. A held message is shown as the tracker reads it (who
sent it, why it waits, its reply text and the updates it would record) so a
coordinator can decide on it safely, then assign it to a participant or
discard it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from tracker.core.model import HoldReason, InboundState
from tracker.db.orm import Event, InboundMessage, Participant, Programme, Reminder, Update
from tracker.errors import NotFoundError, TrackerError
from tracker.inbound.parse import ParsedMessage
from tracker.services.coordinating import find_participant
from tracker.services.deciding import IntakeResult, intake_result
from tracker.services.envelope import read_envelope
from tracker.services.reading import ReadingFailed, ReadingLimits, read_within_budget
from tracker.services.recording import SAID_ORDER
from tracker.services.replying import apply_reply, said_at

log = logging.getLogger(__name__)

# Why a message waits, one sentence each, in words a coordinator understands.
REASON_WORDS = {
    HoldReason.SENDER_MISMATCH.value: "the sender is not the participant the reminder went to, "
    "or the sender's address could not be read unambiguously",
    HoldReason.BAD_TOKEN.value: "the reply token does not verify: the message answers a "
    "reminder from another installation, or it was altered",
    HoldReason.UNMATCHED.value: "it answers no reminder of ours: it has no reply token and "
    "refers to no message the tracker sent to a participant",
    HoldReason.TOO_LARGE.value: "it is larger than the tracker reads, so nobody has read it",
    HoldReason.UNREADABLE.value: "its structure or text could not be read",
    HoldReason.TOO_COMPLEX.value: "it is built in a way that would take too long or too much "
    "memory to read (a sign of hostile or broken mail)",
    HoldReason.OPTED_OUT.value: "the participant had opted out, so nothing was recorded; "
    "assign it if it should count",
    InboundState.FAILED.value: "processing it failed (an error in the tracker or the "
    "database); once the cause is fixed, `tracker reprocess` reads it again",
}
_WAITING = (InboundState.HELD.value, InboundState.FAILED.value)


def why_waiting(inbound: InboundMessage) -> str:
    """The plain-words reason a held or failed message waits for a coordinator."""
    key = inbound.state if inbound.state == InboundState.FAILED.value else inbound.hold_reason
    return REASON_WORDS.get(key or "", "it waits for a coordinator")


def held_messages(*, session: Session) -> dict[str, Any]:
    """The CONTRACT's `tracker review --json` document, oldest first (failed ones too)."""
    rows = session.scalars(
        select(InboundMessage)
        .where(InboundMessage.state.in_(_WAITING))
        .order_by(InboundMessage.received_at, InboundMessage.id)
    )
    return {
        "held": [
            {
                "id": row.id,
                "received_at": row.received_at.isoformat(),
                "from": row.from_address,
                "subject": row.subject,
                "reason": row.hold_reason or row.state,
                "state": row.state,
                "why": why_waiting(row),
                "detail": row.detail,
            }
            for row in rows
        ]
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageView:
    """One stored message as a coordinator reviews it (`tracker review show`, the web)."""

    id: int
    state: str
    reason: str | None  # the hold reason, or "failed"; None for a message not waiting
    why: str | None  # `reason` in plain words
    detail: str
    received_at: datetime
    source: str
    headers: tuple[tuple[str, str], ...]  # From, To, Cc, Date, Subject as written
    participant: str | None  # whose refs the updates below are read with
    reading_problem: str | None  # why the text below is missing, if it is
    reply_text: str
    updates: tuple[dict[str, Any], ...]  # what applying it would record
    unknown_refs: tuple[str, ...]
    raw: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "reason": self.reason,
            "why": self.why,
            "detail": self.detail,
            "received_at": self.received_at.isoformat(),
            "source": self.source,
            "headers": dict(self.headers),
            "participant": self.participant,
            "reading_problem": self.reading_problem,
            "reply_text": self.reply_text,
            "updates": list(self.updates),
            "unknown_refs": list(self.unknown_refs),
            "size": len(self.raw),
        }


def show_message(
    inbound_id: int,
    *,
    session_factory: sessionmaker[Session],
    limits: ReadingLimits | None = None,
) -> MessageView:
    """A stored message as the tracker reads it, and what applying it would record.

    It is read like intake reads it (in a child process, within the budget),
    with the refs of the participant it is linked to when there is one; no
    transaction is open meanwhile.
    """
    with session_factory() as session:
        inbound = _stored(inbound_id, session=session)
        participant = (
            session.get(Participant, inbound.participant_id) if inbound.participant_id else None
        )
        refs = _refs(participant)
        email = participant.email if participant else None
        waiting = inbound.state in _WAITING
        state, source, received_at = inbound.state, inbound.source, inbound.received_at
        reason = (inbound.hold_reason or inbound.state) if waiting else None
        why = why_waiting(inbound) if waiting else None
        detail, raw = inbound.detail or "", bytes(inbound.raw)
    parsed, problem = _read(raw, refs, limits)
    return MessageView(
        id=inbound_id,
        state=state,
        reason=reason,
        why=why,
        detail=detail,
        received_at=received_at,
        source=source,
        headers=read_envelope(raw).shown,
        participant=email,
        reading_problem=problem,
        reply_text=parsed.reply_text,
        updates=_would_record(parsed),
        unknown_refs=parsed.unknown_refs,
        raw=raw,
    )


def _read(
    raw: bytes, refs: tuple[str, ...] | None, limits: ReadingLimits | None
) -> tuple[ParsedMessage, str | None]:
    try:
        parsed = read_within_budget(raw, known_refs=refs, limits=limits)
    except ReadingFailed as error:
        return ParsedMessage(), str(error)
    if parsed.problem is not None:
        return parsed, f"{parsed.problem}: {parsed.kind_reason}"
    return parsed, None


def _would_record(parsed: ParsedMessage) -> tuple[dict[str, Any], ...]:
    rows: list[dict[str, Any]] = [
        {
            "ref": item.ref,
            "status": item.status.value if item.status else None,
            "percent": item.percent,
            "note": item.note,
        }
        for item in parsed.updates
    ]
    if parsed.general_note:
        rows.append({"ref": None, "status": None, "percent": None, "note": parsed.general_note})
    return tuple(rows)


def assign_held(
    inbound_id: int,
    email: str,
    *,
    slug: str | None,
    session_factory: sessionmaker[Session],
    now: datetime,
    actor: str = "cli",
    limits: ReadingLimits | None = None,
) -> IntakeResult:
    """A coordinator vouches for a held message: apply it as a reply from this participant.

    1. Look (short): the message must be held; the participant named; their refs.
    2. Read it with those refs, with no transaction open (a message the
       reader cannot read cannot be assigned: nothing changes).
    3. Record (one transaction), if it is still held: its updates take the
       time it was sent (its Date, bounded by when it was received), so an
       old message never overrides newer progress.
    """
    with session_factory() as session:
        inbound = _held(inbound_id, session=session)
        participant = find_participant(email, slug=slug, session=session)
        participant_id, refs = participant.id, _refs(participant)
        raw = bytes(inbound.raw)
    parsed, problem = _read(raw, refs, limits)
    if problem is not None:
        raise TrackerError(
            f"message {inbound_id} cannot be assigned: the tracker cannot read it ({problem}); "
            f"discard it, or record what it says with `tracker record`"
        )
    with session_factory.begin() as session:
        inbound = _held(inbound_id, session=session, lock=True)
        participant = session.get_one(Participant, participant_id)
        # The reminder it answered counts as answered only if it went to this participant.
        reminder = (
            session.get(Reminder, inbound.reminder_id)
            if inbound.reminder_id is not None and inbound.participant_id == participant.id
            else None
        )
        was = inbound.hold_reason
        at = said_at(
            parsed.date,
            received_at=inbound.received_at,
            not_before=reminder.sent_at if reminder else None,
        )
        outcome = apply_reply(
            inbound, parsed, participant, reminder, session=session, now=now, at=at
        )
        inbound.kind = parsed.kind.value
        inbound.hold_reason = None
        inbound.processed_at = now
        if outcome.duplicate_of is not None:
            inbound.state = InboundState.DUPLICATE.value
            inbound.duplicate_of_id = outcome.duplicate_of
            inbound.detail = (
                f"assigned by a coordinator (was {was}); the same reply as message "
                f"{outcome.duplicate_of}: nothing recorded again"
            )
        else:
            inbound.state = InboundState.PROCESSED.value
            inbound.detail = f"assigned by a coordinator (was {was}); {outcome.detail}"
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
        session.flush()
        result = intake_result(inbound, duplicate=False, session=session)
    result.updates = outcome.updates
    return result


def discard_held(inbound_id: int, *, session: Session, now: datetime, actor: str = "cli") -> None:
    """A coordinator throws a held or failed message away (it stays stored, for the record)."""
    inbound = _held(inbound_id, session=session, also_failed=True)
    was = inbound.hold_reason or inbound.state
    inbound.state = InboundState.DISCARDED.value
    inbound.detail = f"discarded by a coordinator (was {was})"
    session.add(
        Event(at=now, action="inbound.discarded", inbound_message_id=inbound.id, actor=actor)
    )


def update_history(
    *, session: Session, slug: str | None = None, email: str | None = None
) -> dict[str, Any]:
    """The CONTRACT's `tracker updates --json` document, in the order things were said."""
    query = (
        select(Update, Participant, Programme, InboundMessage.message_id)
        .join(Participant, Update.participant_id == Participant.id)
        .join(Programme, Participant.programme_id == Programme.id)
        .outerjoin(InboundMessage, Update.inbound_message_id == InboundMessage.id)
        .options(selectinload(Update.action))
        .order_by(*SAID_ORDER)
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
                "question": update.question,
            }
            for update, participant, programme, message_id in session.execute(query)
        ]
    }


def _refs(participant: Participant | None) -> tuple[str, ...] | None:
    if participant is None:
        return None
    return tuple(a.ref for a in participant.actions if a.archived_at is None)


def _stored(inbound_id: int, *, session: Session) -> InboundMessage:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise NotFoundError(f"no inbound message {inbound_id}")
    return inbound


def _held(
    inbound_id: int, *, session: Session, lock: bool = False, also_failed: bool = False
) -> InboundMessage:
    inbound = session.get(InboundMessage, inbound_id, with_for_update=lock)
    if inbound is None:
        raise NotFoundError(f"no inbound message {inbound_id}")
    allowed = _WAITING if also_failed else (InboundState.HELD.value,)
    if inbound.state not in allowed:
        hint = (
            " (`tracker reprocess` reads a failed message again)"
            if inbound.state == (InboundState.FAILED.value)
            else ""
        )
        raise TrackerError(
            f"message {inbound_id} is not held for review (it is {inbound.state}){hint}"
        )
    return inbound
