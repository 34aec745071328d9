"""What the planner knows, read from the database: rules, actions, history.

Each reader takes a whole page of participants and answers in one or two
queries of plain rows (no ORM objects), so a planning tick costs a constant
number of queries per page (see `tracker.services.planning`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import time
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core import rules as planner
from tracker.core.model import ActionStatus, ParticipantState, ReminderKind, RuleKind
from tracker.core.participant_plan import PARTICIPANT_KINDS
from tracker.db.orm import Action, FollowUpRule, Participant, Reminder, ReminderItem


def rules_of(rows: Sequence[FollowUpRule]) -> list[planner.Rule]:
    """A programme's follow-up rules as the planner takes them (rows in position order)."""
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


def current_actions(
    session: Session, participant_ids: list[int]
) -> dict[int, tuple[planner.ActionFacts, ...]]:
    """Each participant's actions that are not archived (any status), as the planner sees them."""
    found: dict[int, list[planner.ActionFacts]] = defaultdict(list)
    rows = session.execute(
        select(
            Action.participant_id,
            Action.id,
            Action.ref,
            Action.due_on,
            Action.status,
            Action.last_update_at,
        )
        .where(Action.participant_id.in_(participant_ids), Action.archived_at.is_(None))
        .order_by(Action.participant_id, Action.position)
    )
    for participant_id, action_id, ref, due_on, status, last_update_at in rows:
        found[participant_id].append(
            planner.ActionFacts(
                action_id=action_id,
                ref=ref,
                due=due_on,
                status=ActionStatus(status),
                last_update_at=last_update_at,
            )
        )
    return {pid: tuple(actions) for pid, actions in found.items()}


def history(
    session: Session, participant_ids: list[int]
) -> dict[int, tuple[tuple[planner.SentReminder, ...], frozenset[str]]]:
    """For each participant: their sent participant reminders, and every planned key."""
    sent: dict[int, list[planner.SentReminder]] = defaultdict(list)
    keys: dict[int, set[str]] = defaultdict(set)
    reminders = session.execute(
        select(
            Reminder.participant_id,
            Reminder.id,
            Reminder.occurrence_key,
            Reminder.kind,
            Reminder.state,
            Reminder.sent_at,
            Reminder.answered_at,
        ).where(Reminder.participant_id.in_(participant_ids))
    )
    for pid, reminder_id, key, kind, state, sent_at, answered_at in reminders:
        keys[pid].add(key)
        # Only reminders that asked for an answer and reached the server can go
        # unanswered: not acknowledgements, not failed sends.
        if ReminderKind(kind) in PARTICIPANT_KINDS and state == "sent" and sent_at:
            sent[pid].append(
                planner.SentReminder(
                    reminder_id=reminder_id,
                    kind=ReminderKind(kind),
                    sent_at=sent_at,
                    answered=answered_at is not None,
                )
            )
    items = session.execute(
        select(Reminder.participant_id, ReminderItem.occurrence_key)
        .join(Reminder, ReminderItem.reminder_id == Reminder.id)
        .where(Reminder.participant_id.in_(participant_ids))
    )
    for pid, key in items:
        keys[pid].add(key)
    return {
        pid: (tuple(sorted(sent[pid], key=lambda s: s.sent_at)), frozenset(keys[pid]))
        for pid in participant_ids
    }


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
