"""What the dashboard shows of a programme: figures, who is silent, what needs a look.

Every function returns plain frozen records (no ORM objects), so a page is
rendered with no database session open and no query runs from a template.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from tracker.core.model import ActionStatus, InboundState, ParticipantState, ReminderKind
from tracker.db.orm import (
    Action,
    InboundMessage,
    Participant,
    Programme,
    Reminder,
    Update,
    programme_coordinators,
)
from tracker.services.questions import QuestionRow, recent_questions
from tracker.services.review_queue import review_queue
from tracker.services.roster import current_participants

# Silent: this many reminders in a row without a reply, when the programme
# has no escalation rule to say how many.
DEFAULT_SILENT_AFTER = 2
DUE_SOON_DAYS = 30
RECENT_REPLIES = 10
STATUS_ORDER = tuple(ActionStatus)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeSummary:
    slug: str
    name: str
    timezone: str
    starts_on: date
    ends_on: date
    participants: int  # not archived
    asked: int  # participants sent at least one reminder
    replied: int  # of those, participants heard from since
    status_counts: tuple[tuple[str, int], ...]  # every status, in STATUS_ORDER
    overdue: int
    silent: int
    held: int
    failed_sends: int

    @property
    def response_rate(self) -> float | None:
        return self.replied / self.asked if self.asked else None

    @property
    def actions(self) -> int:
        return sum(count for _, count in self.status_counts)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRow:
    participant_id: int
    participant_name: str
    ref: str
    title: str
    due_on: date
    status: str
    percent: int | None
    days: int  # until due (positive) or since due (negative)


@dataclass(frozen=True, slots=True, kw_only=True)
class SilentParticipant:
    participant_id: int
    name: str
    organisation: str | None
    unanswered: int
    since: datetime  # the first reminder left unanswered
    last_reply_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateLine:
    ref: str | None  # None: a general note
    status: str | None
    percent: int | None
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyRow:
    inbound_id: int
    participant_id: int
    participant_name: str
    received_at: datetime
    updates: tuple[UpdateLine, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SendProblem:
    reminder_id: int
    participant_id: int | None
    recipient: str  # a participant's name, or "" for the coordinators
    kind: str
    state: str  # planned | sending | retrying | failed
    attempts: int
    error: str
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantRow:
    participant_id: int
    name: str
    organisation: str | None
    email: str
    state: str
    open_actions: int
    overdue_actions: int
    last_reply_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeOverview:
    summary: ProgrammeSummary
    today: date
    silent_after: int
    due_soon: tuple[ActionRow, ...]
    overdue: tuple[ActionRow, ...]
    silent: tuple[SilentParticipant, ...]
    recent_replies: tuple[ReplyRow, ...]
    questions: tuple[QuestionRow, ...]  # the latest questions participants asked
    send_problems: tuple[SendProblem, ...]
    participants: tuple[ParticipantRow, ...]


def coordinator_programmes(
    coordinator_id: int, *, session: Session, now: datetime
) -> tuple[ProgrammeSummary, ...]:
    """The programmes this coordinator coordinates, newest first, with their figures."""
    programmes = session.scalars(
        select(Programme)
        .join(programme_coordinators, programme_coordinators.c.programme_id == Programme.id)
        .where(programme_coordinators.c.coordinator_id == coordinator_id)
        .order_by(Programme.starts_on.desc(), Programme.slug)
    )
    return tuple(programme_overview(p, session=session, now=now).summary for p in programmes)


def programme_overview(
    programme: Programme, *, session: Session, now: datetime
) -> ProgrammeOverview:
    """Everything the programme's overview page shows, as of `now`."""
    today = now.astimezone(ZoneInfo(programme.timezone)).date()
    participants = current_participants(programme.id, session=session)
    actions = [(p, a) for p in participants for a in p.actions if a.archived_at is None]
    open_actions = [(p, a) for p, a in actions if ActionStatus(a.status).is_open]
    overdue = [_action_row(p, a, today) for p, a in open_actions if a.due_on < today]
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    due_soon = [_action_row(p, a, today) for p, a in open_actions if today <= a.due_on <= horizon]
    sent = _sent_reminders(participants, session=session)
    silent_after = _silent_after(programme)
    silent = _silent(participants, sent, silent_after)
    problems = _send_problems(programme, participants, session=session)
    held = len(review_queue(programme.id, session=session).held)
    counts = Counter(a.status for _, a in actions)
    summary = ProgrammeSummary(
        slug=programme.slug,
        name=programme.name,
        timezone=programme.timezone,
        starts_on=programme.starts_on,
        ends_on=programme.ends_on,
        participants=len(participants),
        asked=sum(1 for p in participants if sent.get(p.id)),
        replied=sum(
            1
            for p in participants
            if sent.get(p.id) and p.last_reply_at is not None and p.last_reply_at >= sent[p.id][0]
        ),
        status_counts=tuple((s.value, counts.get(s.value, 0)) for s in STATUS_ORDER),
        overdue=len(overdue),
        silent=len(silent),
        held=held,
        failed_sends=len(problems),
    )
    overdue_by_participant = Counter(row.participant_id for row in overdue)
    return ProgrammeOverview(
        summary=summary,
        today=today,
        silent_after=silent_after,
        due_soon=tuple(sorted(due_soon, key=lambda r: (r.due_on, r.participant_name, r.ref))),
        overdue=tuple(sorted(overdue, key=lambda r: (r.due_on, r.participant_name, r.ref))),
        silent=silent,
        recent_replies=_recent_replies(participants, session=session),
        questions=recent_questions(participants, session=session),
        send_problems=problems,
        participants=tuple(
            ParticipantRow(
                participant_id=p.id,
                name=p.name,
                organisation=p.organisation,
                email=p.email,
                state=p.state,
                open_actions=sum(
                    1 for a in p.actions if a.archived_at is None and ActionStatus(a.status).is_open
                ),
                overdue_actions=overdue_by_participant.get(p.id, 0),
                last_reply_at=p.last_reply_at,
            )
            for p in participants
        ),
    )


def _action_row(participant: Participant, action: Action, today: date) -> ActionRow:
    return ActionRow(
        participant_id=participant.id,
        participant_name=participant.name,
        ref=action.ref,
        title=action.title,
        due_on=action.due_on,
        status=action.status,
        percent=action.percent,
        days=(action.due_on - today).days,
    )


def _silent_after(programme: Programme) -> int:
    for rule in programme.rules:
        if rule.kind == "escalate" and rule.after_unanswered:
            return rule.after_unanswered
    return DEFAULT_SILENT_AFTER


def _sent_reminders(
    participants: list[Participant], *, session: Session
) -> dict[int, list[datetime]]:
    """Each participant's sent reminders (not acknowledgements), oldest first."""
    sent: dict[int, list[datetime]] = defaultdict(list)
    if not participants:
        return sent
    rows = session.execute(
        select(Reminder.participant_id, Reminder.sent_at)
        .where(
            Reminder.participant_id.in_([p.id for p in participants]),
            Reminder.audience == "participant",
            Reminder.kind != ReminderKind.ACKNOWLEDGEMENT.value,
            Reminder.state == "sent",
            Reminder.sent_at.is_not(None),
        )
        .order_by(Reminder.sent_at)
    )
    for participant_id, sent_at in rows:
        sent[participant_id].append(sent_at)
    return sent


def _silent(
    participants: list[Participant], sent: dict[int, list[datetime]], after: int
) -> tuple[SilentParticipant, ...]:
    """Active participants whose last `after` or more reminders all came after their last reply."""
    silent = []
    for p in participants:
        if p.state != ParticipantState.ACTIVE.value:
            continue
        unanswered = [
            t for t in sent.get(p.id, []) if p.last_reply_at is None or t > p.last_reply_at
        ]
        if len(unanswered) >= after:
            silent.append(
                SilentParticipant(
                    participant_id=p.id,
                    name=p.name,
                    organisation=p.organisation,
                    unanswered=len(unanswered),
                    since=unanswered[0],
                    last_reply_at=p.last_reply_at,
                )
            )
    return tuple(sorted(silent, key=lambda s: (-s.unanswered, s.name)))


def _recent_replies(participants: list[Participant], *, session: Session) -> tuple[ReplyRow, ...]:
    by_id = {p.id: p for p in participants}
    if not by_id:
        return ()
    messages = list(
        session.scalars(
            select(InboundMessage)
            .where(
                InboundMessage.participant_id.in_(by_id),
                InboundMessage.state == InboundState.PROCESSED.value,
                InboundMessage.kind == "reply",
            )
            .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
            .limit(RECENT_REPLIES)
        )
    )
    updates: dict[int, list[Update]] = defaultdict(list)
    if messages:
        for update in session.scalars(
            select(Update)
            .where(Update.inbound_message_id.in_([m.id for m in messages]))
            .order_by(Update.id)
            .options(selectinload(Update.action))
        ):
            assert update.inbound_message_id is not None
            updates[update.inbound_message_id].append(update)
    return tuple(
        ReplyRow(
            inbound_id=m.id,
            participant_id=by_id[m.participant_id].id,
            participant_name=by_id[m.participant_id].name,
            received_at=m.received_at,
            updates=tuple(update_line(u) for u in updates[m.id]),
        )
        for m in messages
        if m.participant_id is not None
    )


def update_line(update: Update) -> UpdateLine:
    return UpdateLine(
        ref=update.action.ref if update.action else None,
        status=update.status,
        percent=update.percent,
        note=update.note,
    )


def programme_outbox(programme: Programme, *, session: Session) -> tuple[SendProblem, ...]:
    """What waits to be sent, is being sent, is retried or failed, for this programme."""
    participants = list(
        session.scalars(select(Participant).where(Participant.programme_id == programme.id))
    )
    states = Reminder.state.in_(("planned", "sending", "failed"))
    return _outbox_rows(programme, participants, states, session=session)


def _send_problems(
    programme: Programme, participants: list[Participant], *, session: Session
) -> tuple[SendProblem, ...]:
    """Messages that failed for good, or failed once and wait to be retried."""
    states = (Reminder.state == "failed") | (
        (Reminder.state == "planned") & (Reminder.attempts > 0)
    )
    return _outbox_rows(programme, participants, states, session=session)


def _outbox_rows(
    programme: Programme,
    participants: list[Participant],
    states: ColumnElement[bool],
    *,
    session: Session,
) -> tuple[SendProblem, ...]:
    by_id = {p.id: p for p in participants}
    owned = Reminder.programme_id == programme.id
    if by_id:
        owned = owned | Reminder.participant_id.in_(by_id)
    rows = session.scalars(
        select(Reminder).where(states, owned).order_by(Reminder.next_attempt_at, Reminder.id)
    )
    return tuple(
        SendProblem(
            reminder_id=r.id,
            participant_id=r.participant_id,
            recipient=(
                by_id[r.participant_id].name
                if r.audience == "participant" and r.participant_id in by_id
                else ""
            ),
            kind=r.kind,
            state=_outbox_state(r),
            attempts=r.attempts,
            error=r.last_error or "",
            next_attempt_at=r.next_attempt_at if r.state == "planned" else None,
        )
        for r in rows
    )


def _outbox_state(reminder: Reminder) -> str:
    if reminder.state == "planned" and reminder.attempts > 0:
        return "retrying"
    return reminder.state
