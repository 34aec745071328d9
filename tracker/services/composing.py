"""Composing outgoing mail: from database rows to render contexts to messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.config import DEFAULT_LINK_DAYS, Settings
from tracker.core.model import ReminderKind
from tracker.core.participant_plan import PARTICIPANT_KINDS
from tracker.core.tokens import make_reply_token
from tracker.db.orm import InboundMessage, Participant, Reminder
from tracker.mail.contexts import EscalationContext, ReminderContext
from tracker.mail.outgoing import (
    Mailbox,
    OutgoingMail,
    build_message,
    make_message_id,
    reply_address,
    unsubscribe_mailto,
)
from tracker.mail.render import (
    RenderedMail,
    render_acknowledgement,
    render_digest,
    render_escalation,
    render_reminder,
)
from tracker.services.acknowledging import acknowledged_inbound_id, acknowledgement_context
from tracker.services.digest import digest_context
from tracker.services.participant_links import PersonalLinks, personal_links
from tracker.services.presenting import action_lines, local_date

_ESCALATION_KEY = re.compile(r"escalate:p\d+:r(\d+)")


@dataclass(frozen=True, slots=True)
class MailIdentity:
    """How our outgoing mail names itself: From, Reply-To pattern, signing key."""

    from_header: str
    from_address: str
    reply_pattern: str
    secret_key: str
    # The web app's base URL (TRACKER_PUBLIC_URL): participant mail then carries
    # their personal update page, and one-click unsubscribe over https as well
    # as by email.
    public_url: str | None = None
    link_days: int = DEFAULT_LINK_DAYS  # how long those links stay valid

    @classmethod
    def from_settings(cls, settings: Settings) -> MailIdentity:
        return cls(
            from_header=settings.from_header,
            from_address=settings.from_address,
            reply_pattern=settings.reply_address,
            secret_key=settings.require_secret_key(),
            public_url=settings.public_url,
            link_days=settings.link_days,
        )

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2]

    def token(self, reminder_id: int, nonce: str | None) -> str:
        """The signed reply token of a reminder (see `tracker.core.tokens`)."""
        return make_reply_token(reminder_id, self.secret_key, nonce=nonce)

    def message_id(self, reminder_id: int, nonce: str | None) -> str:
        return make_message_id(self.token(reminder_id, nonce), self.domain)

    def reply_to(self, reminder_id: int, nonce: str | None) -> str:
        return reply_address(self.reply_pattern, self.token(reminder_id, nonce))

    def links_for(self, participant: Participant, now: datetime) -> PersonalLinks | None:
        """The participant's personal page and unsubscribe links; None without a public URL."""
        if self.public_url is None:
            return None
        return personal_links(
            participant,
            public_url=self.public_url,
            secret_key=self.secret_key,
            now=now,
            valid_days=self.link_days,
        )

    def unsubscribe_uris(self, reply_to: str, links: PersonalLinks | None) -> tuple[str, ...]:
        """Where a participant unsubscribes: the web app's one-click URL (when
        there is one), then an email to the message's own reply address."""
        mailto = unsubscribe_mailto(reply_to)
        return (mailto,) if links is None else (links.unsubscribe, mailto)


def compose_reminder(
    reminder: Reminder, *, session: Session, env: Environment, identity: MailIdentity, now: datetime
) -> OutgoingMail:
    """The message for an outbox row (whose Message-ID is already recorded)."""
    kind = ReminderKind(reminder.kind)
    if kind is ReminderKind.DIGEST:
        programme = reminder.programme
        assert programme is not None, "a digest belongs to a programme"
        rendered = render_digest(env, digest_context(reminder, session=session))
        return _message(reminder, rendered, programme.coordinators, identity=identity, now=now)
    participant = reminder.about
    if kind is ReminderKind.ESCALATION:
        rendered = _render_escalation(reminder, session=session, env=env, now=now)
        coordinators = participant.programme.coordinators
        return _message(reminder, rendered, coordinators, identity=identity, now=now)
    # Participant mail: replies come back to the signed address.
    reply_to = identity.reply_to(reminder.id, reminder.nonce)
    links = identity.links_for(participant, now)
    opt_out = links.unsubscribe if links is not None else reply_to
    unsubscribe = identity.unsubscribe_uris(reply_to, links)
    if kind is ReminderKind.ACKNOWLEDGEMENT:
        rendered = render_acknowledgement(
            env,
            acknowledgement_context(
                reminder,
                session=session,
                opt_out_address=opt_out,
                update_url=links.page if links is not None else None,
            ),
        )
        return _message(
            reminder,
            rendered,
            [participant],
            identity=identity,
            now=now,
            reply_to=reply_to,
            unsubscribe=unsubscribe,
            thread=_acknowledged_thread(reminder, session=session),
        )
    item_actions = {item.action_id for item in reminder.items}
    rendered = render_reminder(
        env,
        reminder_context(
            participant,
            kind,
            focus_refs=tuple(a.ref for a in participant.actions if a.id in item_actions),
            opt_out_address=opt_out,
            session=session,
            now=now,
            update_url=links.page if links is not None else None,
        ),
    )
    return _message(
        reminder,
        rendered,
        [participant],
        identity=identity,
        now=now,
        reply_to=reply_to,
        unsubscribe=unsubscribe,
    )


class _Recipient(Protocol):
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class _Thread:
    """The message an acknowledgement answers, and the thread it belongs to."""

    parent: str | None
    references: tuple[str, ...]


def _acknowledged_thread(reminder: Reminder, *, session: Session) -> _Thread:
    """In-Reply-To and References of an acknowledgement: the reminder, then the reply.

    The reply's Message-ID comes from outside; `build_message` echoes it only
    when it is a strict Message-ID.
    """
    inbound = session.get(InboundMessage, acknowledged_inbound_id(reminder) or 0)
    if inbound is None:
        return _Thread(parent=None, references=())
    answered = session.get(Reminder, inbound.reminder_id) if inbound.reminder_id else None
    root = answered.message_id if answered is not None else None
    chain = tuple(m for m in (root, inbound.message_id) if m)
    return _Thread(parent=inbound.message_id, references=chain)


def _message(
    reminder: Reminder,
    rendered: RenderedMail,
    recipients: Sequence[_Recipient],
    *,
    identity: MailIdentity,
    now: datetime,
    reply_to: str | None = None,
    unsubscribe: Sequence[str] = (),
    thread: _Thread | None = None,
) -> OutgoingMail:
    """The MIME message of `reminder` to `recipients`.

    Mail to coordinators has no reply token: a reply goes to the From address.
    `X-Tracker-Kind` names the kind, for mail filters.
    """
    assert reminder.message_id is not None, "a reminder is claimed before it is composed"
    answer_to = reply_to or identity.from_address
    unsubscribe = unsubscribe or (unsubscribe_mailto(answer_to),)
    return build_message(
        rendered=rendered,
        from_header=identity.from_header,
        to=[Mailbox(name=r.name, address=r.email) for r in recipients],
        reply_to=answer_to,
        message_id=reminder.message_id,
        list_unsubscribe_uris=unsubscribe,
        in_reply_to=thread.parent if thread else None,
        references=thread.references if thread else (),
        date=now,
        extra_headers={"X-Tracker-Kind": reminder.kind},
    )


def reminder_context(
    participant: Participant,
    kind: ReminderKind,
    *,
    focus_refs: tuple[str, ...],
    opt_out_address: str,
    session: Session,
    now: datetime,
    update_url: str | None = None,
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
        update_url=update_url,
    )


def _render_escalation(
    reminder: Reminder, *, session: Session, env: Environment, now: datetime
) -> RenderedMail:
    participant = reminder.about
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
    # What the rule counted: reminders that asked for an answer and reached the
    # server, from the first of the run to the escalation's moment. Not
    # acknowledgements, not failed sends.
    unanswered = session.scalar(
        select(func.count(Reminder.id)).where(
            Reminder.participant_id == participant.id,
            Reminder.kind.in_([kind.value for kind in PARTICIPANT_KINDS]),
            Reminder.state == "sent",
            Reminder.sent_at >= since,
            Reminder.sent_at <= reminder.scheduled_at,
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
            actions=action_lines(participant, session=session, open_only=True),
        ),
    )
