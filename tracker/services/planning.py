"""Planning: turning what the rules say is due into outbox rows.

Each participant row stores `next_due_at`, the earliest moment any rule may
fire for them, so a tick reads only the participants that are due: its cost
follows the work, not the size of the database.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.core import rules as planner
from tracker.core.model import ActionStatus, ParticipantState, ReminderKind, RuleKind
from tracker.db.orm import Event, FollowUpRule, Participant, Reminder, ReminderItem
from tracker.db.session import insert_for

log = logging.getLogger(__name__)

# A `next_due_at` before any real moment: the next planning pass looks at the
# participant whatever its `now` (a replay with an old --now included).
REPLAN = datetime(1970, 1, 1, tzinfo=UTC)


def mark_for_planning(participant: Participant) -> None:
    """Their rules, plan, replies or sends changed: recompute on the next tick."""
    if participant.archived_at is None:
        participant.next_due_at = REPLAN


@dataclass(frozen=True, slots=True)
class PlanningReport:
    participants_checked: int
    planned: tuple[planner.PlannedMessage, ...]


def plan_due_reminders(*, session: Session, now: datetime) -> PlanningReport:
    """Add to the outbox every reminder due at `now`; the caller commits.

    1. Read the participants whose `next_due_at` has come (on PostgreSQL,
       locked with SKIP LOCKED so that concurrent planners split the work).
    2. Build the planner's facts for each and ask `rules.due_reminders`.
    3. Insert each planned message with its items; a unique occurrence key
       that already exists means another planner won, and is skipped.
    4. Store each participant's new `next_due_at`.
    """
    participants = list(
        session.scalars(
            select(Participant)
            .where(Participant.next_due_at <= now, Participant.archived_at.is_(None))
            .order_by(Participant.next_due_at, Participant.id)
            .options(selectinload(Participant.actions), selectinload(Participant.programme))
            .with_for_update(skip_locked=True, of=Participant)
        )
    )
    if not participants:
        return PlanningReport(participants_checked=0, planned=())
    history = _history(session, [p.id for p in participants])
    rules_by_programme: dict[int, list[planner.Rule]] = {}
    planned: list[planner.PlannedMessage] = []
    # One flush at the end: an autoflush before each insert would flush every
    # participant's change on its own (a busy tick would pay it per participant).
    with session.no_autoflush:
        for participant in participants:
            rules = rules_by_programme.get(participant.programme_id)
            if rules is None:
                rules = rules_by_programme[participant.programme_id] = _rules(
                    participant.programme.rules
                )
            facts = participant_facts(participant, *history.get(participant.id, ((), frozenset())))
            added = [
                message
                for message in planner.due_reminders(rules, [facts], now=now)
                if _insert(session, message, now)
            ]
            planned.extend(added)
            keys = facts.planned_keys | {item.key for m in added for item in m.items}
            keys |= {m.key for m in added}
            participant.next_due_at = planner.next_due(
                rules, replace(facts, planned_keys=keys), now=now
            )
    session.flush()
    return PlanningReport(participants_checked=len(participants), planned=tuple(planned))


def participant_facts(
    participant: Participant,
    sent: Sequence[planner.SentReminder],
    planned_keys: frozenset[str],
) -> planner.ParticipantFacts:
    """What the planner knows of one participant (their programme loaded)."""
    programme = participant.programme
    return planner.ParticipantFacts(
        participant_id=participant.id,
        state=ParticipantState(participant.state),
        timezone=participant.effective_timezone,
        country=participant.effective_country,
        working_days_only=programme.working_days_only,
        actions=tuple(
            planner.ActionFacts(
                action_id=action.id,
                ref=action.ref,
                due=action.due_on,
                status=ActionStatus(action.status),
                last_update_at=action.last_update_at,
            )
            for action in participant.actions
            if action.archived_at is None
        ),
        last_reply_at=participant.last_reply_at,
        sent=tuple(sent),
        planned_keys=planned_keys,
    )


def _rules(rows: Sequence[FollowUpRule]) -> list[planner.Rule]:
    return [
        planner.Rule(
            kind=RuleKind(row.kind),
            at=time.fromisoformat(row.at_time) if row.at_time else None,
            every=(
                planner.Period(count=row.every_count, unit=cast(planner.PeriodUnit, row.every_unit))
                if row.every_count and row.every_unit
                else None
            ),
            first=row.first_on,
            count=row.count,
            days=row.days,
            every_days=row.every_days,
            max=row.max_count,
            after_unanswered=row.after_unanswered,
        )
        for row in rows
    ]


def _history(
    session: Session, participant_ids: list[int]
) -> dict[int, tuple[tuple[planner.SentReminder, ...], frozenset[str]]]:
    """For each participant: their sent participant reminders, and every planned key."""
    sent: dict[int, list[planner.SentReminder]] = defaultdict(list)
    keys: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(Reminder)
        .where(Reminder.participant_id.in_(participant_ids))
        .options(selectinload(Reminder.items))
    ).scalars()
    for reminder in rows:
        pid = reminder.participant_id
        assert pid is not None  # selected by participant
        keys[pid].add(reminder.occurrence_key)
        keys[pid].update(item.occurrence_key for item in reminder.items)
        asks = reminder.audience == "participant" and reminder.kind != ReminderKind.ACKNOWLEDGEMENT
        if asks and reminder.state == "sent" and reminder.sent_at:
            sent[pid].append(
                planner.SentReminder(
                    reminder_id=reminder.id,
                    kind=ReminderKind(reminder.kind),
                    sent_at=reminder.sent_at,
                    answered=reminder.answered_at is not None,
                )
            )
    return {
        pid: (tuple(sorted(sent[pid], key=lambda s: s.sent_at)), frozenset(keys[pid]))
        for pid in participant_ids
    }


def _insert(session: Session, message: planner.PlannedMessage, now: datetime) -> bool:
    """Insert one planned message with its items; False when its key exists already.

    `INSERT … ON CONFLICT DO NOTHING` rather than a savepoint per message: a
    savepoint flushes and snapshots the whole session, which made a busy tick
    quadratic in the number of participants.
    """
    insert = insert_for(session)
    reminder_id = session.execute(
        insert(Reminder)
        .values(
            occurrence_key=message.key,
            participant_id=message.participant_id,
            audience=message.audience,
            kind=message.kind.value,
            local_date=message.local_date,
            scheduled_at=message.scheduled_at,
            state="planned",
            attempts=0,
            next_attempt_at=message.scheduled_at,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["occurrence_key"])
        .returning(Reminder.id)
    ).scalar_one_or_none()
    if reminder_id is None:  # another planner won
        log.info("action=reminder.already_planned key=%s", message.key)
        return False
    session.execute(
        insert(ReminderItem)
        .values(
            [
                {
                    "reminder_id": reminder_id,
                    "occurrence_key": item.key,
                    "kind": item.kind.value,
                    "action_id": item.action_id,
                }
                for item in message.items
            ]
        )
        .on_conflict_do_nothing(index_elements=["occurrence_key"])
    )
    session.add(
        Event(
            at=now,
            action="reminder.planned",
            participant_id=message.participant_id,
            reminder_id=reminder_id,
            detail=f"{message.kind.value} for {message.local_date.isoformat()} "
            f"({len(message.items)} item(s))",
        )
    )
    log.info(
        "action=reminder.planned reminder=%s participant=%s kind=%s scheduled_at=%s",
        reminder_id,
        message.participant_id,
        message.kind.value,
        message.scheduled_at.isoformat(),
    )
    return True
