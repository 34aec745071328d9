"""The coordinators' weekly digest: where every participant stands, what came in.

Planned by the same pass that plans reminders, once a week per programme
(Monday 08:00 in the programme's time zone) from the week after the training
ends, for a week that has something to report (`_week_has_news`), and never
dated before the programme's first planning pass: a programme set up today
gets no digest of a past week it was not followed in. Its key names the week,
so it is planned once, and after downtime only the latest week's digest goes
out.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from tracker.core.model import ActionStatus, InboundState, ParticipantState, ReminderKind
from tracker.db.orm import Action, Event, InboundMessage, Participant, Programme, Reminder, Update
from tracker.db.session import insert_for
from tracker.mail.contexts import (
    DigestContext,
    DigestParticipant,
    DigestQuestion,
    UndeliveredMessage,
)
from tracker.services.outbox import undelivered
from tracker.services.presenting import action_lines, local_date, recorded_update
from tracker.services.roster import current_participants

log = logging.getLogger(__name__)

DIGEST_AT = time(8, 0)  # Monday morning, programme time


def digest_week(programme: Programme, now: datetime) -> date | None:
    """The Monday of the latest digest due at `now`, or None before the first one."""
    zone = ZoneInfo(programme.timezone)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    if datetime.combine(monday, DIGEST_AT, zone) > now:
        monday -= timedelta(days=7)
    # The first digest covers the first full week after the training.
    return monday if monday - timedelta(days=7) > programme.ends_on else None


def plan_digests(*, session: Session, now: datetime) -> int:
    """Plan this week's digest for every programme that has something to report."""
    planned = 0
    for programme in session.scalars(select(Programme).order_by(Programme.id)):
        if programme.first_planned_at is None:
            programme.first_planned_at = now  # this pass is the first to see it
        monday = digest_week(programme, now)
        if monday is None or not programme.weekly_digest or not programme.coordinators:
            continue
        zone = ZoneInfo(programme.timezone)
        moment = datetime.combine(monday, DIGEST_AT, zone)
        key = f"digest:g{programme.id}:{monday.isoformat()}"
        if moment < programme.first_planned_at:
            continue  # a week before the tracker followed this programme
        if session.scalar(select(Reminder.id).where(Reminder.occurrence_key == key)) is not None:
            continue
        if not _week_has_news(programme, *_period(programme, monday), session=session):
            continue
        reminder_id = session.execute(
            insert_for(session)(Reminder)
            .values(
                occurrence_key=key,
                participant_id=None,
                programme_id=programme.id,
                audience="coordinators",
                kind=ReminderKind.DIGEST.value,
                local_date=monday,
                scheduled_at=moment,
                state="planned",
                attempts=0,
                next_attempt_at=moment,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["occurrence_key"])
            .returning(Reminder.id)
        ).scalar_one_or_none()
        if reminder_id is not None:
            planned += 1
            session.add(
                Event(
                    at=now,
                    action="digest.planned",
                    programme_id=programme.id,
                    reminder_id=reminder_id,
                    detail=f"week of {monday.isoformat()}",
                )
            )
            log.info(
                "action=digest.planned programme=%s week=%s", programme.slug, monday.isoformat()
            )
    return planned


def _week_has_news(
    programme: Programme, start: datetime, end: datetime, *, session: Session
) -> bool:
    """Whether anything happened that week: an update, a reminder sent or failing, a
    message received, or an open action falling due."""
    people = select(Participant.id).where(Participant.programme_id == programme.id)
    in_week: list[ColumnElement[bool]] = [
        # Progress recorded.
        exists().where(Update.participant_id.in_(people), Update.at >= start, Update.at < end),
        # Mail to or about a participant sent, or tried and refused.
        exists().where(
            Reminder.participant_id.in_(people),
            or_(
                and_(Reminder.sent_at >= start, Reminder.sent_at < end),
                and_(
                    Reminder.last_error.is_not(None),
                    Reminder.last_attempt_at >= start,
                    Reminder.last_attempt_at < end,
                ),
            ),
        ),
        # Mail received from a participant (applied or held).
        exists().where(
            InboundMessage.participant_id.in_(people),
            InboundMessage.received_at >= start,
            InboundMessage.received_at < end,
        ),
        # An open action that fell due.
        exists().where(
            Action.participant_id.in_(people),
            Action.archived_at.is_(None),
            Action.status.in_([s.value for s in ActionStatus if s.is_open]),
            Action.due_on >= local_date(start, programme.timezone).date(),
            Action.due_on < local_date(end, programme.timezone).date(),
        ),
    ]
    return bool(session.scalar(select(or_(*in_week))))


def _period(programme: Programme, monday: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(programme.timezone)
    end = datetime.combine(monday, time(0, 0), zone)
    return end - timedelta(days=7), end


def digest_context(reminder: Reminder, *, session: Session) -> DigestContext:
    """What a digest shows: each participant, their actions, the week's updates."""
    programme = reminder.programme
    assert programme is not None, "a digest belongs to a programme"
    start, end = _period(programme, reminder.local_date)
    participants = current_participants(programme.id, session=session, with_programme=True)
    updates = list(
        session.scalars(
            select(Update)
            .where(
                Update.participant_id.in_([p.id for p in participants]),
                Update.at >= start,
                Update.at < end,
            )
            .order_by(Update.at, Update.id)
            .options(selectinload(Update.action))
        )
    )
    held = session.scalar(
        select(func.count(InboundMessage.id)).where(
            # Failed ones wait for a coordinator too (`tracker review` lists both).
            InboundMessage.state.in_([InboundState.HELD.value, InboundState.FAILED.value]),
            or_(
                InboundMessage.participant_id.in_([p.id for p in participants]),
                InboundMessage.participant_id.is_(None),
            ),
        )
    )
    return DigestContext(
        language=programme.language,
        programme_name=programme.name,
        coordinator_names=tuple(c.name for c in programme.coordinators),
        period_start=start.date(),
        period_end=(end - timedelta(days=1)).date(),
        participants=tuple(
            DigestParticipant(
                name=p.name,
                email=p.email,
                organisation=p.organisation,
                state=ParticipantState(p.state),
                last_reply_on=(
                    local_date(p.last_reply_at, programme.timezone).date()
                    if p.last_reply_at
                    else None
                ),
                actions=action_lines(p, session=session, open_only=False),
                updates=tuple(recorded_update(u) for u in updates if u.participant_id == p.id),
            )
            for p in participants
        ),
        held_for_review=int(held or 0),
        questions=tuple(
            DigestQuestion(
                name=u.participant.name,
                organisation=u.participant.organisation,
                asked_on=local_date(u.at, programme.timezone).date(),
                text=u.note,
            )
            for u in updates
            if u.question
        ),
        undelivered=_undelivered(programme, participants, since=start, session=session),
    )


def _undelivered(
    programme: Programme,
    participants: list[Participant],
    *,
    since: datetime,
    session: Session,
) -> tuple[UndeliveredMessage, ...]:
    """Messages to or about the programme's participants that failed since the week
    began, or are still being retried: a participant who was never reached has
    not ignored anything."""
    troubles = undelivered(
        session=session, participant_ids=[p.id for p in participants], failed_since=since
    )
    by_id = {p.id: p for p in participants}
    return tuple(
        UndeliveredMessage(
            participant_name=by_id[pid].name,
            participant_email=by_id[pid].email,
            kind=ReminderKind(entry.kind),
            on=local_date(entry.at, programme.timezone).date(),
            error=entry.error or "",
            retrying=entry.state == "retrying",
        )
        for pid, entries in troubles.items()
        for entry in entries
    )
