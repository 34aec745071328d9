"""What a programme's coordinators see of received mail: held messages and message text.

A received message belongs to a programme when it is known to concern one of
its participants: the participant it was matched to, else the participant of
the reminder it answers, else a participant of the programme whose address
sent it. A message that concerns no programme (a stranger's mail that
answers nothing of ours) is shown on no programme's page; `tracker review`
shows every held message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.core.model import InboundState
from tracker.db.orm import InboundMessage, Participant, Reminder
from tracker.inbound.mime import body_text, header_text, read_message
from tracker.inbound.parse import DEFAULT_MAX_BYTES as MAX_MESSAGE_BYTES
from tracker.inbound.parse import parse_message
from tracker.services.roster import current_participants

# A page shows this much of a message body; the rest is cut with a note.
MAX_SHOWN_CHARACTERS = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class WouldRecord:
    """One update a held message would record if assigned to its likely participant."""

    ref: str | None
    status: str | None
    percent: int | None
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldMessage:
    inbound_id: int
    received_at: datetime
    sender: str | None
    subject: str
    reason: str  # a HoldReason value
    detail: str
    reply_text: str
    participant_id: int | None  # the participant it most likely concerns
    participant_name: str | None
    would_record: tuple[WouldRecord, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantChoice:
    participant_id: int
    name: str
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewQueue:
    held: tuple[HeldMessage, ...]
    participants: tuple[ParticipantChoice, ...]  # whom a held message may be assigned to


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageText:
    """A received message as text: its headers decoded, its body never rendered as HTML."""

    inbound_id: int
    received_at: datetime
    state: str
    sender: str
    to: str
    cc: str
    date: str
    subject: str
    body: str
    body_was_html: bool
    truncated: bool


def belongs_to_programme(inbound: InboundMessage, programme_id: int, *, session: Session) -> bool:
    return programme_id in _programmes_of(inbound, session=session)


def review_queue(programme_id: int, *, session: Session) -> ReviewQueue:
    """The held messages that concern programme `programme_id`, oldest first."""
    participants = current_participants(
        programme_id, session=session, order=(func.lower(Participant.name), Participant.id)
    )
    by_email = {p.email: p for p in participants}
    by_id = {p.id: p for p in participants}
    programme_reminders = select(Reminder.id).where(
        or_(Reminder.participant_id.in_(by_id), Reminder.programme_id == programme_id)
    )
    candidates = session.scalars(
        select(InboundMessage)
        .where(
            InboundMessage.state == InboundState.HELD.value,
            or_(
                InboundMessage.participant_id.in_(by_id),
                InboundMessage.reminder_id.in_(programme_reminders),
                InboundMessage.from_address.in_(by_email),
            ),
        )
        .order_by(InboundMessage.received_at, InboundMessage.id)
    )
    held = []
    for inbound in candidates:
        # The same precedence as the loader: matched participant, reminder, sender.
        if not belongs_to_programme(inbound, programme_id, session=session):
            continue
        participant = by_id.get(inbound.participant_id or 0) or by_email.get(
            inbound.from_address or ""
        )
        held.append(_held(inbound, participant))
    return ReviewQueue(
        held=tuple(held),
        participants=tuple(
            ParticipantChoice(participant_id=p.id, name=p.name, email=p.email) for p in participants
        ),
    )


def message_text(inbound: InboundMessage) -> MessageText:
    """The message as a coordinator may read it safely: decoded text, nothing active."""
    try:
        message = read_message(inbound.raw)
        text, was_html = body_text(message)

        def header(name: str) -> str:
            return " ".join((header_text(message, name) or "").split())

        sender, to, cc, date, subject = (
            header(name) for name in ("From", "To", "Cc", "Date", "Subject")
        )
    except Exception:  # hostile bytes: show what we stored about it instead
        text, was_html = "", False
        sender, to, cc, date, subject = inbound.from_address or "", "", "", "", ""
        subject = inbound.subject or ""
    return MessageText(
        inbound_id=inbound.id,
        received_at=inbound.received_at,
        state=inbound.state,
        sender=sender,
        to=to,
        cc=cc,
        date=date,
        subject=subject,
        body=text[:MAX_SHOWN_CHARACTERS],
        body_was_html=was_html,
        truncated=len(text) > MAX_SHOWN_CHARACTERS,
    )


def _held(inbound: InboundMessage, participant: Participant | None) -> HeldMessage:
    refs = [a.ref for a in participant.actions if a.archived_at is None] if participant else None
    parsed = parse_message(inbound.raw, known_refs=refs, max_bytes=MAX_MESSAGE_BYTES)
    would = [
        WouldRecord(
            ref=u.ref,
            status=u.status.value if u.status else None,
            percent=u.percent,
            note=u.note,
        )
        for u in parsed.updates
    ]
    if parsed.general_note:
        would.append(WouldRecord(ref=None, status=None, percent=None, note=parsed.general_note))
    return HeldMessage(
        inbound_id=inbound.id,
        received_at=inbound.received_at,
        sender=inbound.from_address,
        subject=inbound.subject or parsed.subject,
        reason=inbound.hold_reason or "",
        detail=inbound.detail or "",
        reply_text=parsed.reply_text[:MAX_SHOWN_CHARACTERS],
        participant_id=participant.id if participant else None,
        participant_name=participant.name if participant else None,
        would_record=tuple(would) if parsed.problem is None else (),
    )


def _programmes_of(inbound: InboundMessage, *, session: Session) -> set[int]:
    if inbound.participant_id is not None:
        participant = session.get(Participant, inbound.participant_id)
        return {participant.programme_id} if participant else set()
    if inbound.reminder_id is not None:
        reminder = session.get(Reminder, inbound.reminder_id)
        if reminder is not None and reminder.participant is not None:
            return {reminder.participant.programme_id}
        if reminder is not None and reminder.programme_id is not None:
            return {reminder.programme_id}
    if inbound.from_address:
        return set(
            session.scalars(
                select(Participant.programme_id).where(
                    Participant.email == inbound.from_address.lower(),
                    Participant.archived_at.is_(None),
                )
            )
        )
    return set()
