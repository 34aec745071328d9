"""Any message, for any participant, exactly as it would be sent, without sending it.

The preview composes an unsaved outbox row with the same code that sends
(`composing.compose_reminder`), so headers, language, text and HTML are what
the participant or the coordinators would receive. Only the reply token is a
placeholder: a preview must not hand out a working reply address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.core.model import ActionStatus, InboundState, ReminderKind
from tracker.db.orm import (
    Action,
    InboundMessage,
    Participant,
    Reminder,
    ReminderItem,
    Update,
)
from tracker.errors import TrackerError
from tracker.services.acknowledging import acknowledgement_key
from tracker.services.composing import MailIdentity, compose_reminder

PREVIEW_KINDS = tuple(ReminderKind)
_PLACEHOLDER_TOKEN = "preview"


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewedMail:
    kind: str
    sender: str
    to: str
    reply_to: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class _PreviewIdentity(MailIdentity):
    def token(self, reminder_id: int, nonce: str | None) -> str:
        return _PLACEHOLDER_TOKEN


def preview_identity(settings: Settings) -> MailIdentity:
    return _PreviewIdentity(
        from_header=settings.from_header,
        from_address=settings.from_address,
        reply_pattern=settings.reply_address,
        secret_key="",
    )


def preview_mail(
    participant: Participant,
    kind: ReminderKind,
    *,
    ref: str | None,
    session: Session,
    env: Environment,
    identity: MailIdentity,
    now: datetime,
) -> PreviewedMail:
    """The message of `kind` for `participant` (or, for a digest, their programme) at `now`."""
    reminder = _unsaved_reminder(participant, kind, ref=ref, session=session, now=now)
    reminder.message_id = f"<preview@{identity.domain}>"
    mail = compose_reminder(reminder, session=session, env=env, identity=identity, now=now)
    message = mail.parsed()
    return PreviewedMail(
        kind=kind.value,
        sender=str(message["From"]),
        to=str(message["To"]),
        reply_to=str(message["Reply-To"]),
        subject=str(message["Subject"]),
        text=_part(message, "plain"),
        html=_part(message, "html"),
    )


def _unsaved_reminder(
    participant: Participant,
    kind: ReminderKind,
    *,
    ref: str | None,
    session: Session,
    now: datetime,
) -> Reminder:
    programme = participant.programme
    zone = ZoneInfo(participant.effective_timezone)
    reminder = Reminder(
        kind=kind.value,
        audience="participant",
        local_date=now.astimezone(zone).date(),
        scheduled_at=now,
        next_attempt_at=now,
        state="planned",
        attempts=0,
        items=[],
    )
    if kind is ReminderKind.DIGEST:
        reminder.audience = "coordinators"
        reminder.programme = programme
        local = now.astimezone(ZoneInfo(programme.timezone)).date()
        reminder.local_date = local - timedelta(days=local.weekday())
        reminder.occurrence_key = f"digest:g{programme.id}:preview"
        return reminder
    reminder.participant = participant
    if kind is ReminderKind.ACKNOWLEDGEMENT:
        inbound_id = _latest_reply(participant, session=session)
        reminder.occurrence_key = acknowledgement_key(inbound_id)
    elif kind is ReminderKind.ESCALATION:
        reminder.audience = "coordinators"
        first = _first_unanswered(participant, session=session)
        key = f"escalate:p{participant.id}:r{first or 0}"
        reminder.items = [ReminderItem(occurrence_key=key, kind=kind.value)]
    elif kind in (ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE):
        action = _action(participant, ref)
        key = f"{kind.value}:a{action.id}:preview"
        reminder.items = [ReminderItem(occurrence_key=key, kind=kind.value, action_id=action.id)]
    return reminder


def _action(participant: Participant, ref: str | None) -> Action:
    actions = [a for a in participant.actions if a.archived_at is None]
    if ref:
        for action in actions:
            if action.ref == ref:
                return action
        raise TrackerError(f"{participant.email} has no action {ref!r}")
    open_actions = [a for a in actions if ActionStatus(a.status).is_open]
    if not open_actions:
        raise TrackerError(f"{participant.email} has no open action to remind them of")
    return open_actions[0]


def _latest_reply(participant: Participant, *, session: Session) -> int:
    inbound_id = session.scalar(
        select(InboundMessage.id)
        .join(Update, Update.inbound_message_id == InboundMessage.id)
        .where(
            InboundMessage.participant_id == participant.id,
            InboundMessage.state == InboundState.PROCESSED.value,
        )
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(1)
    )
    if inbound_id is None:
        raise TrackerError(f"{participant.email} has sent no reply to acknowledge yet")
    return inbound_id


def _first_unanswered(participant: Participant, *, session: Session) -> int | None:
    query = (
        select(Reminder.id)
        .where(
            Reminder.participant_id == participant.id,
            Reminder.audience == "participant",
            Reminder.kind != ReminderKind.ACKNOWLEDGEMENT.value,
            Reminder.state == "sent",
        )
        .order_by(Reminder.sent_at)
        .limit(1)
    )
    if participant.last_reply_at is not None:
        query = query.where(Reminder.sent_at > participant.last_reply_at)
    return session.scalar(query)


def _part(message: EmailMessage, subtype: str) -> str:
    """The text of a part as rendered: the wire's CRLF line ends become LF."""
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    return str(part.get_content()).replace("\r\n", "\n")
