"""Composing outgoing mail: from database rows to render contexts to MIME messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.core.model import ActionStatus, ReminderKind
from tracker.core.tokens import make_reply_token
from tracker.db.orm import InboundMessage, Participant, Reminder, Update
from tracker.mail.outgoing import (
    build_message,
    make_message_id,
    reply_address,
    unsubscribe_mailto,
)
from tracker.mail.render import (
    ActionLine,
    EscalationContext,
    ReminderContext,
    RenderedMail,
    render_acknowledgement,
    render_escalation,
    render_reminder,
)
from tracker.services.acknowledging import acknowledged_inbound_id, acknowledgement_context

_ESCALATION_KEY = re.compile(r"escalate:p\d+:r(\d+)")


@dataclass(frozen=True, slots=True)
class MailIdentity:
    """How our outgoing mail names itself: From, Reply-To pattern, signing key."""

    from_header: str
    from_address: str
    reply_pattern: str
    secret_key: str

    @classmethod
    def from_settings(cls, settings: Settings) -> MailIdentity:
        return cls(
            from_header=settings.from_header,
            from_address=settings.from_address,
            reply_pattern=settings.reply_address,
            secret_key=settings.require_secret_key(),
        )

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2]

    def token(self, reminder_id: int) -> str:
        return make_reply_token(reminder_id, self.secret_key)

    def message_id(self, reminder_id: int) -> str:
        return make_message_id(self.token(reminder_id), self.domain)

    def reply_to(self, reminder_id: int) -> str:
        return reply_address(self.reply_pattern, self.token(reminder_id))


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
    notes = _last_notes(session, [a.id for a in actions])
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


def compose_reminder(
    reminder: Reminder, *, session: Session, env: Environment, identity: MailIdentity, now: datetime
) -> EmailMessage:
    """The message for an outbox row (whose Message-ID is already recorded)."""
    assert reminder.message_id is not None, "a reminder is claimed before it is composed"
    participant = reminder.participant
    programme = participant.programme
    coordinators = programme.coordinators
    if reminder.audience == "coordinators":
        rendered = _render_escalation(reminder, session=session, env=env, now=now)
        message = build_message(
            rendered=rendered,
            from_header=identity.from_header,
            to_name=coordinators[0].name,
            to_address=coordinators[0].email,
            reply_to=identity.from_address,
            message_id=reminder.message_id,
            list_unsubscribe=unsubscribe_mailto(identity.from_address),
            date=now,
        )
        del message["To"]
        message["To"] = tuple(Address(display_name=c.name, addr_spec=c.email) for c in coordinators)
        return message
    reply_to = identity.reply_to(reminder.id)
    if reminder.kind == ReminderKind.ACKNOWLEDGEMENT:
        return _acknowledgement_message(
            reminder, session=session, env=env, identity=identity, now=now
        )
    item_actions = {item.action_id for item in reminder.items}
    rendered = render_reminder(
        env,
        reminder_context(
            participant,
            ReminderKind(reminder.kind),
            focus_refs=tuple(a.ref for a in participant.actions if a.id in item_actions),
            opt_out_address=reply_to,
            session=session,
            now=now,
        ),
    )
    return build_message(
        rendered=rendered,
        from_header=identity.from_header,
        to_name=participant.name,
        to_address=participant.email,
        reply_to=reply_to,
        message_id=reminder.message_id,
        list_unsubscribe=unsubscribe_mailto(reply_to),
        date=now,
    )


def _acknowledgement_message(
    reminder: Reminder, *, session: Session, env: Environment, identity: MailIdentity, now: datetime
) -> EmailMessage:
    assert reminder.message_id is not None
    participant = reminder.participant
    reply_to = identity.reply_to(reminder.id)
    rendered = render_acknowledgement(
        env, acknowledgement_context(reminder, session=session, opt_out_address=reply_to)
    )
    inbound = session.get(InboundMessage, acknowledged_inbound_id(reminder) or 0)
    threading = (
        {"In-Reply-To": inbound.message_id, "References": inbound.message_id}
        if inbound is not None and inbound.message_id
        else None
    )
    return build_message(
        rendered=rendered,
        from_header=identity.from_header,
        to_name=participant.name,
        to_address=participant.email,
        reply_to=reply_to,
        message_id=reminder.message_id,
        list_unsubscribe=unsubscribe_mailto(reply_to),
        date=now,
        extra_headers=threading,
    )


def reminder_context(
    participant: Participant,
    kind: ReminderKind,
    *,
    focus_refs: tuple[str, ...],
    opt_out_address: str,
    session: Session,
    now: datetime,
) -> ReminderContext:
    """What a participant reminder shows: their open actions, in their language."""
    programme = participant.programme
    return ReminderContext(
        kind=kind,
        language=participant.effective_language,
        as_of=local_date(now, participant.effective_timezone).date(),
        participant_name=participant.name,
        programme_name=programme.name,
        organisation=participant.organisation,
        actions=action_lines(participant, session=session, open_only=True),
        coordinator_names=tuple(c.name for c in programme.coordinators),
        opt_out_url_or_address=opt_out_address,
        focus_refs=focus_refs,
    )


def _render_escalation(
    reminder: Reminder, *, session: Session, env: Environment, now: datetime
) -> RenderedMail:
    participant = reminder.participant
    programme = participant.programme
    zone = participant.effective_timezone
    first_id = next(
        (
            int(m.group(1))
            for item in reminder.items
            if (m := _ESCALATION_KEY.fullmatch(item.occurrence_key))
        ),
        None,
    )
    first = session.get(Reminder, first_id) if first_id is not None else None
    since = first.sent_at if first is not None and first.sent_at else reminder.scheduled_at
    unanswered = session.scalar(
        select(func.count(Reminder.id)).where(
            Reminder.participant_id == participant.id,
            Reminder.audience == "participant",
            Reminder.state == "sent",
            Reminder.sent_at >= since,
        )
    )
    return render_escalation(
        env,
        EscalationContext(
            language=programme.language,
            as_of=local_date(now, programme.timezone).date(),
            programme_name=programme.name,
            coordinator_names=tuple(c.name for c in programme.coordinators),
            participant_name=participant.name,
            participant_email=participant.email,
            organisation=participant.organisation,
            unanswered_count=int(unanswered or 0),
            unanswered_since=local_date(since, zone).date(),
            last_reply_on=(
                local_date(participant.last_reply_at, zone).date()
                if participant.last_reply_at
                else None
            ),
            actions=action_lines(participant, session=session, open_only=False),
        ),
    )


def _last_notes(session: Session, action_ids: list[int]) -> dict[int, str]:
    notes: dict[int, str] = {}
    if not action_ids:
        return notes
    rows = session.scalars(
        select(Update)
        .where(Update.action_id.in_(action_ids))
        .order_by(Update.at.desc(), Update.id.desc())
    )
    for update in rows:
        if update.action_id is not None:
            notes.setdefault(update.action_id, update.note)
    return notes
