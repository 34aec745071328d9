"""What a message turns out to be, once read, and what that changes.

`decide` is the last step of intake (and of `tracker reprocess`): inside one
short transaction, with the message already read, it holds the message for a
coordinator, records a bounce or an auto-reply, or applies the reply.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker.core.model import HoldReason, InboundState, MessageKind, ParticipantState
from tracker.db.orm import Event, InboundMessage, Participant, Reminder, Update
from tracker.inbound.parse import ParsedMessage
from tracker.services.attachments import AttachmentLimits, forget_files
from tracker.services.recording import derive_action_state
from tracker.services.replying import apply_reply, said_at

log = logging.getLogger(__name__)

_PROBLEM_REASONS = {
    "too_large": HoldReason.TOO_LARGE,
    "too_complex": HoldReason.TOO_COMPLEX,
    "unreadable": HoldReason.UNREADABLE,
}


@dataclass(slots=True)
class IntakeResult:
    """What happened to one inbound message."""

    inbound_id: int
    duplicate: bool  # the very same message (Message-ID or bytes) was stored before
    state: str
    kind: str | None = None
    reason: str | None = None
    participant: str | None = None
    reminder_id: int | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""
    duplicate_of: int | None = None  # state duplicate: the message whose reply it repeats

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
            "duplicate_of": self.duplicate_of,
        }


def decide(
    inbound: InboundMessage,
    parsed: ParsedMessage,
    reminder: Reminder | None,
    *,
    match_problem: str | None,
    session: Session,
    now: datetime,
    duplicate: bool,
    attachment_limits: AttachmentLimits | None = None,
) -> IntakeResult:
    """Interpret a message already read, and apply it or hold it for a coordinator.

    1. Too large, too complex or unreadable: held, with the reader's reason.
    2. A bounce: the failed addresses' participants become bouncing.
    3. The reminder its token or thread names (found before reading it); a
       token that does not verify, or no reminder: held (bad_token, unmatched).
    4. The sender must be exactly the participant the reminder went to
       (strictly parsed, one From mailbox): else held, with why.
    5. An auto-reply is recorded as such and is not an answer.
    6. A participant who opted out: held (a reply token captured before, or
       mail from a participant who left, is a coordinator's call).
    7. Otherwise `apply_reply`: unsubscribe, a resent duplicate, or updates.
    """
    _forget_previous_outcome(inbound, session=session)
    inbound.kind = parsed.kind.value

    def hold(reason: HoldReason, detail: str) -> IntakeResult:
        return _hold(inbound, reason, detail, session=session, now=now, duplicate=duplicate)

    def done(detail: str) -> IntakeResult:
        return _done(inbound, detail, session=session, now=now, duplicate=duplicate)

    if parsed.problem is not None:
        return hold(_PROBLEM_REASONS.get(parsed.problem, HoldReason.UNREADABLE), parsed.kind_reason)
    if parsed.kind is MessageKind.BOUNCE:
        return done(_apply_bounce(inbound, parsed, session=session, now=now))
    if reminder is None:
        if parsed.kind is MessageKind.AUTO_REPLY:
            return done("auto-reply to no reminder of ours")
        problem = match_problem or "the reminder it answers no longer exists"
        if problem == "bad_token":
            return hold(HoldReason.BAD_TOKEN, "the token in its reply address does not verify")
        return hold(HoldReason.UNMATCHED, problem)
    inbound.reminder_id = reminder.id
    if reminder.participant is None:  # a digest: coordinators' mail, not a participant's
        return hold(
            HoldReason.UNMATCHED, f"answers the coordinators' digest {reminder.id}, not a reminder"
        )
    participant = reminder.participant
    inbound.participant_id = participant.id
    if reminder.audience != "participant" or parsed.sender != participant.email:
        return hold(HoldReason.SENDER_MISMATCH, _sender_detail(parsed, reminder, participant))
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
        return done(f"auto-reply ({parsed.kind_reason}); not an answer")
    if participant.state == ParticipantState.OPTED_OUT.value:
        return hold(HoldReason.OPTED_OUT, f"{participant.email} opted out; nothing was recorded")
    at = said_at(parsed.date, received_at=inbound.received_at, not_before=reminder.sent_at)
    outcome = apply_reply(
        inbound,
        parsed,
        participant,
        reminder,
        session=session,
        now=now,
        at=at,
        attachment_limits=attachment_limits,
    )
    if outcome.duplicate_of is not None:
        return _duplicate(inbound, outcome.duplicate_of, session=session, now=now)
    result = done(outcome.detail)
    result.updates = outcome.updates
    return result


def _sender_detail(parsed: ParsedMessage, reminder: Reminder, participant: Participant) -> str:
    went_to = f"reminder {reminder.id} went to {participant.email}"
    if parsed.sender is None:
        return f"{parsed.sender_problem or 'no sender address could be read'}; {went_to}"
    return f"sent by {parsed.sender}, {went_to}"


def _forget_previous_outcome(inbound: InboundMessage, *, session: Session) -> None:
    """Reprocessing: drop what this message recorded before, and re-derive."""
    inbound.reminder_id = None
    inbound.participant_id = None
    inbound.duplicate_of_id = None
    inbound.unknown_refs = None
    inbound.reply_digest = None
    if inbound.processed_at is None:  # never decided (every outcome sets it): nothing to drop
        return
    forget_files(inbound.id, session=session)
    previous = list(session.scalars(select(Update).where(Update.inbound_message_id == inbound.id)))
    if not previous:
        return
    touched = [u.action for u in previous if u.action is not None]
    session.execute(delete(Update).where(Update.inbound_message_id == inbound.id))
    session.flush()
    derive_action_state([a for a in touched if a is not None], session=session)


def _apply_bounce(
    inbound: InboundMessage, parsed: ParsedMessage, *, session: Session, now: datetime
) -> str:
    """Mark the failed addresses' participants bouncing; what was done, in words."""
    if parsed.bounce_is_temporary:
        return "temporary delivery delay; nothing to do"
    addresses = [a.lower() for a in parsed.bounced_recipients]
    participants: Sequence[Participant] = (
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
    return f"bounce: {detail}"


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


def _duplicate(
    inbound: InboundMessage, original_id: int, *, session: Session, now: datetime
) -> IntakeResult:
    inbound.state = InboundState.DUPLICATE.value
    inbound.hold_reason = None
    inbound.duplicate_of_id = original_id
    inbound.detail = (
        f"the same reply as message {original_id} (same sender, text and reminder, "
        "within a day): nothing recorded again"
    )
    inbound.processed_at = now
    session.add(
        Event(
            at=now,
            action="inbound.duplicate",
            participant_id=inbound.participant_id,
            inbound_message_id=inbound.id,
            detail=f"repeats message {original_id}",
        )
    )
    session.flush()
    log.info("action=inbound.duplicate inbound=%s of=%s", inbound.id, original_id)
    return intake_result(inbound, duplicate=False, session=session)


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
        duplicate_of=inbound.duplicate_of_id,
    )
