"""The coordinators' weekly digest: where every participant stands, what came in.

Planned by the same pass that plans reminders, once a week per programme
(Monday 08:00 in the programme's time zone) from the week after the training
ends, while any action is still open or anything was reported that week. Its
key names the week, so it is planned once, and after downtime only the
latest week's digest goes out.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from tracker.core.model import ActionStatus, InboundState, ParticipantState, ReminderKind
from tracker.db.orm import Action, Event, InboundMessage, Participant, Programme, Reminder, Update
from tracker.db.session import insert_for
from tracker.mail.contexts import DigestContext, DigestParticipant, DigestQuestion
from tracker.services.presenting import action_lines, local_date, recorded_update

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
        monday = digest_week(programme, now)
        if monday is None or not programme.weekly_digest or not programme.coordinators:
            continue
        if not _worth_sending(programme, monday, session=session):
            continue
        zone = ZoneInfo(programme.timezone)
        moment = datetime.combine(monday, DIGEST_AT, zone)
        reminder_id = session.execute(
            insert_for(session)(Reminder)
            .values(
                occurrence_key=f"digest:g{programme.id}:{monday.isoformat()}",
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


def _worth_sending(programme: Programme, monday: date, *, session: Session) -> bool:
    open_statuses = [s.value for s in ActionStatus if s.is_open]
    open_actions = session.scalar(
        select(func.count(Action.id))
        .join(Participant)
        .where(
            Participant.programme_id == programme.id,
            Participant.archived_at.is_(None),
            Action.archived_at.is_(None),
            Action.status.in_(open_statuses),
        )
    )
    if open_actions:
        return True
    start, end = _period(programme, monday)
    recent = session.scalar(
        select(func.count(Update.id))
        .join(Participant)
        .where(Participant.programme_id == programme.id, Update.at >= start, Update.at < end)
    )
    return bool(recent)


def _period(programme: Programme, monday: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(programme.timezone)
    end = datetime.combine(monday, time(0, 0), zone)
    return end - timedelta(days=7), end


def digest_context(reminder: Reminder, *, session: Session) -> DigestContext:
    """What a digest shows: each participant, their actions, the week's updates."""
    programme = reminder.programme
    assert programme is not None, "a digest belongs to a programme"
    start, end = _period(programme, reminder.local_date)
    participants = list(
        session.scalars(
            select(Participant)
            .where(Participant.programme_id == programme.id, Participant.archived_at.is_(None))
            .order_by(Participant.id)
            .options(selectinload(Participant.actions), selectinload(Participant.programme))
        )
    )
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
    )
