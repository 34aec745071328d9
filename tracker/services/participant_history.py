"""One participant as the dashboard shows them: actions with their history, and a timeline.

Plain records only: the participant page renders with no session open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracker.core.model import ActionStatus, ParticipantState
from tracker.db.orm import Attachment, Event, InboundMessage, Participant, Reminder, Update
from tracker.services.attachments import participant_files

# Audit-log entries a coordinator caused, shown in the participant's timeline.
_COORDINATOR_EVENTS = (
    "participant.active",
    "participant.paused",
    "participant.opted_out",
    "participant.email_changed",
    "progress.recorded",
    "reminder.requested",
    "inbound.assigned",
    "participant.page_answer",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileEntry:
    """A file the participant sent: by email or on their page; bytes kept or not."""

    attachment_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    stored: bool
    at: datetime
    action_ref: str | None
    via: str  # email | web
    inbound_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateEntry:
    at: datetime
    status: str | None
    percent: int | None
    note: str
    source: str  # email | coordinator | web
    inbound_id: int | None  # the message it came from


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionHistory:
    action_id: int
    ref: str
    title: str
    due_on: date
    status: str
    percent: int | None
    is_open: bool
    updates: tuple[UpdateEntry, ...]  # oldest first


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEntry:
    at: datetime
    direction: str  # out | in | problem | note
    what: str  # a reminder kind, an inbound kind, or an audit-log action
    state: str  # sent, planned, failed, cancelled; processed, held, …; "" for notes
    detail: str
    actor: str | None = None
    reminder_id: int | None = None
    inbound_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantPage:
    participant_id: int
    name: str
    email: str
    organisation: str | None
    language: str
    timezone: str
    state: str
    paused_until: datetime | None
    last_reply_at: datetime | None
    programme_slug: str
    programme_name: str
    actions: tuple[ActionHistory, ...]
    general_updates: tuple[UpdateEntry, ...]
    timeline: tuple[TimelineEntry, ...]  # newest first
    files: tuple[FileEntry, ...] = ()  # newest first

    @property
    def can_be_reminded(self) -> bool:
        return self.state == ParticipantState.ACTIVE.value and any(a.is_open for a in self.actions)


def participant_page(participant: Participant, *, session: Session) -> ParticipantPage:
    programme = participant.programme
    updates = list(
        session.scalars(
            select(Update)
            .where(Update.participant_id == participant.id)
            .order_by(Update.at, Update.id)
        )
    )
    by_action: dict[int | None, list[UpdateEntry]] = {}
    for update in updates:
        by_action.setdefault(update.action_id, []).append(_entry(update))
    actions = tuple(
        ActionHistory(
            action_id=a.id,
            ref=a.ref,
            title=a.title,
            due_on=a.due_on,
            status=a.status,
            percent=a.percent,
            is_open=ActionStatus(a.status).is_open,
            updates=tuple(by_action.get(a.id, ())),
        )
        for a in participant.actions
        if a.archived_at is None
    )
    return ParticipantPage(
        participant_id=participant.id,
        name=participant.name,
        email=participant.email,
        organisation=participant.organisation,
        language=participant.effective_language,
        timezone=participant.effective_timezone,
        state=participant.state,
        paused_until=participant.paused_until,
        last_reply_at=participant.last_reply_at,
        programme_slug=programme.slug,
        programme_name=programme.name,
        actions=actions,
        general_updates=tuple(by_action.get(None, ())),
        timeline=_timeline(participant, session=session),
        files=tuple(_file_entry(f) for f in participant_files(participant, session=session)),
    )


def _file_entry(attachment: Attachment) -> FileEntry:
    return FileEntry(
        attachment_id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        stored=attachment.stored,
        at=attachment.created_at,
        action_ref=attachment.action.ref if attachment.action is not None else None,
        via="email" if attachment.inbound_message_id is not None else "web",
        inbound_id=attachment.inbound_message_id,
    )


def _entry(update: Update) -> UpdateEntry:
    return UpdateEntry(
        at=update.at,
        status=update.status,
        percent=update.percent,
        note=update.note,
        source=update.source,
        inbound_id=update.inbound_message_id,
    )


def _timeline(participant: Participant, *, session: Session) -> tuple[TimelineEntry, ...]:
    """Reminders sent (or waiting, or failed), messages received, and coordinators' acts."""
    entries: list[TimelineEntry] = []
    for reminder in session.scalars(
        select(Reminder).where(Reminder.participant_id == participant.id)
    ):
        to_coordinators = reminder.audience == "coordinators"
        if reminder.state == "sent" and reminder.sent_at is not None:
            at, direction = reminder.sent_at, "out"
        elif reminder.state == "failed":
            at, direction = reminder.next_attempt_at, "problem"
        else:
            at, direction = reminder.scheduled_at, "out"
        entries.append(
            TimelineEntry(
                at=at,
                direction=direction,
                what=reminder.kind,
                state=reminder.state,
                detail=(reminder.last_error or "") if reminder.state != "sent" else "",
                actor="coordinators" if to_coordinators else None,
                reminder_id=reminder.id,
            )
        )
    for inbound in session.scalars(
        select(InboundMessage).where(InboundMessage.participant_id == participant.id)
    ):
        entries.append(
            TimelineEntry(
                at=inbound.received_at,
                direction="in",
                what=inbound.kind or "other",
                state=inbound.state,
                detail=inbound.subject or "",
                inbound_id=inbound.id,
            )
        )
    for event in session.scalars(
        select(Event).where(
            Event.participant_id == participant.id,
            or_(Event.action.in_(_COORDINATOR_EVENTS), Event.actor.is_not(None)),
        )
    ):
        entries.append(
            TimelineEntry(
                at=event.at,
                direction="note",
                what=event.action,
                state="",
                detail=event.detail,
                actor=event.actor,
                reminder_id=event.reminder_id,
                inbound_id=event.inbound_message_id,
            )
        )
    return tuple(sorted(entries, key=lambda e: e.at, reverse=True))
