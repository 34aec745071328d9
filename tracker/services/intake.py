"""Taking in mail: store the raw bytes first, then interpret and apply.

`store_inbound` commits the message before anything reads it, deduplicated by
Message-ID (else by a hash of its bytes). `process_inbound` then parses it,
finds the reminder it answers, checks the sender, and records the updates; a
message it cannot trust is held for a coordinator instead. Processing can be
repeated (`tracker reprocess`): the updates a message produced are replaced,
never duplicated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.core.model import (
    HoldReason,
    InboundState,
    MessageKind,
    ParticipantState,
)
from tracker.db.orm import Event, InboundMessage, Participant, Reminder, Update
from tracker.inbound.parse import ParsedMessage, parse_message
from tracker.services.recording import derive_action_state
from tracker.services.reply_tokens import reminder_for_token
from tracker.services.replying import MAX_MESSAGE_BYTES, apply_reply
from tracker.services.storing import store_inbound

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IntakeResult:
    """What happened to one inbound message."""

    inbound_id: int
    duplicate: bool
    state: str
    kind: str | None = None
    reason: str | None = None
    participant: str | None = None
    reminder_id: int | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "inbound_id": self.inbound_id,
            "duplicate": self.duplicate,
            "state": self.state,
            "kind": self.kind,
            "reason": self.reason,
            "participant": self.participant,
            "reminder_id": self.reminder_id,
            "updates": self.updates,
            "detail": self.detail,
        }


def ingest(
    raw: bytes,
    *,
    session_factory: sessionmaker[Session],
    secret_key: str,
    source: str,
    now: datetime,
) -> IntakeResult:
    """Store `raw` (committed), then process it in a second transaction.

    A failure while processing (a bug) is logged and leaves the message stored
    for `tracker reprocess` or the service's next pass: once the bytes are
    safe, the caller (an MTA pipe) has done its part.
    """
    with session_factory.begin() as session:
        inbound, duplicate = store_inbound(raw, session=session, source=source, now=now)
        inbound_id = inbound.id
        if duplicate and inbound.state != InboundState.STORED:
            return intake_result(inbound, duplicate=True, session=session)
    try:
        with session_factory.begin() as session:
            inbound = session.get_one(InboundMessage, inbound_id)
            return process_inbound(
                inbound, session=session, secret_key=secret_key, now=now, duplicate=duplicate
            )
    except Exception:
        log.exception("action=inbound.process_failed inbound=%s", inbound_id)
        return IntakeResult(
            inbound_id=inbound_id,
            duplicate=duplicate,
            state=InboundState.STORED.value,
            detail="stored; reading it failed (logged), it will be read again by "
            "`tracker reprocess` or the service",
        )


def process_inbound(
    inbound: InboundMessage,
    *,
    session: Session,
    secret_key: str,
    now: datetime,
    duplicate: bool = False,
) -> IntakeResult:
    """Interpret a stored message and apply it, or hold it for a coordinator.

    1. Too large or unreadable: held.
    2. A bounce: the failed addresses' participants become bouncing.
    3. Find the reminder: the signed token in a recipient address, else our
       Message-ID in In-Reply-To/References. A token that does not verify, or
       no reminder at all: held (bad_token, unmatched).
    4. The sender must be the participant the reminder went to: else held.
    5. An auto-reply is recorded as such and is not an answer.
    6. "unsubscribe" opts the participant out.
    7. Otherwise its updates are recorded, the reminder is answered, and an
       acknowledgement is queued when the programme wants one.
    """
    _forget_previous_outcome(inbound, session=session)
    parsed = parse_message(inbound.raw, max_bytes=MAX_MESSAGE_BYTES)
    inbound.kind = parsed.kind.value
    if parsed.problem is not None:
        reason = HoldReason.TOO_LARGE if parsed.problem == "too_large" else HoldReason.UNREADABLE
        return _hold(
            inbound, reason, parsed.kind_reason, session=session, now=now, duplicate=duplicate
        )
    if parsed.kind is MessageKind.BOUNCE:
        return _apply_bounce(inbound, parsed, session=session, now=now, duplicate=duplicate)
    reminder, problem = _find_reminder(parsed, session=session, secret_key=secret_key)
    if reminder is None:
        if parsed.kind is MessageKind.AUTO_REPLY:
            return _done(
                inbound,
                "auto-reply to no reminder of ours",
                session=session,
                now=now,
                duplicate=duplicate,
            )
        reason = HoldReason.BAD_TOKEN if problem == "bad_token" else HoldReason.UNMATCHED
        return _hold(inbound, reason, problem or "", session=session, now=now, duplicate=duplicate)
    inbound.reminder_id = reminder.id
    if reminder.participant is None:  # a digest: coordinators' mail, not a participant's
        detail = f"answers the coordinators' digest {reminder.id}, not a reminder"
        return _hold(
            inbound, HoldReason.UNMATCHED, detail, session=session, now=now, duplicate=duplicate
        )
    participant = reminder.participant
    inbound.participant_id = participant.id
    if reminder.audience != "participant" or (parsed.from_address or "") != participant.email:
        sender = parsed.from_address or "nobody"
        detail = f"sent by {sender}, reminder {reminder.id} went to {participant.email}"
        return _hold(
            inbound,
            HoldReason.SENDER_MISMATCH,
            detail,
            session=session,
            now=now,
            duplicate=duplicate,
        )
    if parsed.kind is MessageKind.AUTO_REPLY:
        session.add(
            Event(
                at=now,
                action="inbound.auto_reply",
                participant_id=participant.id,
                reminder_id=reminder.id,
                inbound_message_id=inbound.id,
                detail=parsed.kind_reason,
            )
        )
        return _done(
            inbound,
            f"auto-reply ({parsed.kind_reason}); not an answer",
            session=session,
            now=now,
            duplicate=duplicate,
        )
    outcome = apply_reply(inbound, parsed, participant, reminder, session=session, now=now)
    result = _done(inbound, outcome.detail, session=session, now=now, duplicate=duplicate)
    result.updates = outcome.updates
    return result


def _forget_previous_outcome(inbound: InboundMessage, *, session: Session) -> None:
    """Reprocessing: drop the updates this message produced before, and re-derive."""
    previous = list(session.scalars(select(Update).where(Update.inbound_message_id == inbound.id)))
    if not previous:
        return
    touched = [u.action for u in previous if u.action is not None]
    session.execute(delete(Update).where(Update.inbound_message_id == inbound.id))
    session.flush()
    derive_action_state([a for a in touched if a is not None], session=session)


def _find_reminder(
    parsed: ParsedMessage, *, session: Session, secret_key: str
) -> tuple[Reminder | None, str | None]:
    if parsed.token is not None:
        reminder = reminder_for_token(session, parsed.token, secret_key)
        if reminder is None:
            return None, "bad_token"
        return reminder, None
    thread = [m for m in (parsed.in_reply_to, *parsed.references) if m]
    if thread:
        reminder = session.scalars(select(Reminder).where(Reminder.message_id.in_(thread))).first()
        if reminder is not None:
            return reminder, None
    return None, "no reply token and no reference to a reminder of ours"


def _apply_bounce(
    inbound: InboundMessage,
    parsed: ParsedMessage,
    *,
    session: Session,
    now: datetime,
    duplicate: bool,
) -> IntakeResult:
    if parsed.bounce_is_temporary:
        return _done(
            inbound,
            "temporary delivery delay; nothing to do",
            session=session,
            now=now,
            duplicate=duplicate,
        )
    addresses = [a.lower() for a in parsed.bounced_recipients]
    participants = (
        list(
            session.scalars(
                select(Participant).where(
                    Participant.email.in_(addresses), Participant.archived_at.is_(None)
                )
            )
        )
        if addresses
        else []
    )
    for participant in participants:
        if participant.state == ParticipantState.ACTIVE.value:
            participant.state = ParticipantState.BOUNCING.value
        session.add(
            Event(
                at=now,
                action="participant.bouncing",
                participant_id=participant.id,
                inbound_message_id=inbound.id,
                detail=f"bounce for {participant.email}",
            )
        )
    if participants:
        inbound.participant_id = participants[0].id
    detail = ", ".join(p.email for p in participants) or "no participant with the failed address"
    return _done(inbound, f"bounce: {detail}", session=session, now=now, duplicate=duplicate)


def _done(
    inbound: InboundMessage, detail: str, *, session: Session, now: datetime, duplicate: bool
) -> IntakeResult:
    inbound.state = InboundState.PROCESSED.value
    inbound.hold_reason = None
    inbound.detail = detail
    inbound.processed_at = now
    session.flush()
    log.info(
        "action=inbound.processed inbound=%s kind=%s detail=%s", inbound.id, inbound.kind, detail
    )
    return intake_result(inbound, duplicate=duplicate, session=session)


def _hold(
    inbound: InboundMessage,
    reason: HoldReason,
    detail: str,
    *,
    session: Session,
    now: datetime,
    duplicate: bool,
) -> IntakeResult:
    inbound.state = InboundState.HELD.value
    inbound.hold_reason = reason.value
    inbound.detail = detail
    inbound.processed_at = now
    session.add(
        Event(
            at=now,
            action="inbound.held",
            participant_id=inbound.participant_id,
            inbound_message_id=inbound.id,
            detail=f"{reason.value}: {detail}",
        )
    )
    session.flush()
    log.info("action=inbound.held inbound=%s reason=%s", inbound.id, reason.value)
    return intake_result(inbound, duplicate=duplicate, session=session)


def intake_result(inbound: InboundMessage, *, duplicate: bool, session: Session) -> IntakeResult:
    participant = (
        session.get(Participant, inbound.participant_id) if inbound.participant_id else None
    )
    return IntakeResult(
        inbound_id=inbound.id,
        duplicate=duplicate,
        state=inbound.state,
        kind=inbound.kind,
        reason=inbound.hold_reason,
        participant=participant.email if participant else None,
        reminder_id=inbound.reminder_id,
        detail=inbound.detail or "",
    )
