"""Planning: turning what the rules say is due into outbox rows.

Each participant row stores `next_due_at`, the earliest moment any rule may
fire for them, so a tick reads only the participants that are due: its cost
follows the work, not the size of the database.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from tracker.core import rules as planner
from tracker.core.model import ParticipantState, ReminderKind
from tracker.core.obsolete import why_obsolete
from tracker.db.orm import (
    Event,
    FollowUpRule,
    Participant,
    Programme,
    Reminder,
    ReminderItem,
)
from tracker.db.session import insert_for
from tracker.services.planner_facts import (
    current_actions,
    history,
    participant_facts,
    rules_of,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

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

    1. Read the participants whose `next_due_at` has come, a page at a time
       (on PostgreSQL, locked with SKIP LOCKED so that concurrent planners
       split the work), as plain rows: no ORM object is built for them.
    2. Build the planner's facts for each and ask their programme's
       `Timetable` (one per programme for the whole pass) for their plan.
    3. Insert the planned messages with their items, in batches; a unique
       occurrence key that exists already means another planner won.
    4. Store each participant's new `next_due_at`: their plan updated with
       what this pass inserted.
    """
    checked = 0
    planned: list[planner.PlannedMessage] = []
    programmes: dict[int, _ProgrammeRules] = {}
    after_id = 0
    while True:
        page = session.execute(
            select(
                Participant.id,
                Participant.programme_id,
                Participant.state,
                Participant.timezone,
                Participant.country,
                Participant.last_reply_at,
            )
            .where(
                Participant.next_due_at <= now,
                Participant.archived_at.is_(None),
                Participant.id > after_id,
            )
            .order_by(Participant.id)
            .limit(_PAGE)
            .with_for_update(skip_locked=True, of=Participant)
        ).all()
        if not page:
            break
        after_id = page[-1].id
        checked += len(page)
        missing = {row.programme_id for row in page} - programmes.keys()
        programmes.update(_programme_rules(session, missing, now))
        # Only rows are held, and only for the page: memory stays bounded
        # by the page, however many participants are due.
        planned.extend(_plan_page(session, page, programmes, now))
    return PlanningReport(participants_checked=checked, planned=tuple(planned))


_PAGE = 1000  # participants planned together: reads batched, memory bounded


@dataclass(frozen=True, slots=True)
class _ProgrammeRules:
    """A programme's calendar defaults and its rules' timetable for this pass."""

    timezone: str
    country: str | None
    working_days_only: bool
    timetable: planner.Timetable


def _programme_rules(
    session: Session, programme_ids: set[int], now: datetime
) -> dict[int, _ProgrammeRules]:
    if not programme_ids:
        return {}
    rules: dict[int, list[FollowUpRule]] = defaultdict(list)
    for rule in session.scalars(
        select(FollowUpRule)
        .where(FollowUpRule.programme_id.in_(programme_ids))
        .order_by(FollowUpRule.programme_id, FollowUpRule.position)
    ):
        rules[rule.programme_id].append(rule)
    rows = session.execute(
        select(
            Programme.id, Programme.timezone, Programme.country, Programme.working_days_only
        ).where(Programme.id.in_(programme_ids))
    )
    return {
        row.id: _ProgrammeRules(
            timezone=row.timezone,
            country=row.country,
            working_days_only=row.working_days_only,
            timetable=planner.Timetable(rules_of(rules[row.id]), now),
        )
        for row in rows
    }


def _plan_page(
    session: Session,
    page: Sequence[Row[tuple[int, int, str, str | None, str | None, datetime | None]]],
    programmes: dict[int, _ProgrammeRules],
    now: datetime,
) -> list[planner.PlannedMessage]:
    """Steps 2-4 for one page of due participants, in a constant number of queries."""
    ids = [row.id for row in page]
    actions = current_actions(session, ids)
    history_of = history(session, ids)
    plans: list[tuple[int, planner.ParticipantPlan | None]] = []
    messages: list[planner.PlannedMessage] = []
    for row in page:
        programme = programmes[row.programme_id]
        state = ParticipantState(row.state)
        if not state.receives_reminders:
            plans.append((row.id, None))
            continue
        sent, planned_keys = history_of[row.id]
        facts = planner.ParticipantFacts(
            participant_id=row.id,
            state=state,
            # As `Participant.effective_timezone` and `effective_country`.
            timezone=row.timezone or programme.timezone,
            country=row.country or programme.country,
            working_days_only=programme.working_days_only,
            actions=actions.get(row.id, ()),
            last_reply_at=row.last_reply_at,
            sent=sent,
            planned_keys=planned_keys,
        )
        plan = programme.timetable.plan(facts)
        plans.append((row.id, plan))
        messages.extend(planner.planned_messages(plan))
    # Another planner may have won some keys: only what this one inserted counts.
    inserted = _insert_all(session, messages, now)
    planned = [m for m in messages if m.key in inserted]
    added_for: dict[int, list[planner.PlannedMessage]] = defaultdict(list)
    for message in planned:
        added_for[message.participant_id].append(message)
    next_due: list[dict[str, object]] = []
    for participant_id, participant_plan in plans:
        moment = None
        if participant_plan is not None:
            added = added_for[participant_id]
            keys = [item.key for m in added for item in m.items] + [m.key for m in added]
            # The plan updated with what it just planned, not built again.
            moment = planner.first_firing(participant_plan.with_planned(keys))
        next_due.append({"id": participant_id, "next_due_at": moment})
    # By primary key, as one executemany (objects already in the session
    # are updated too).
    session.execute(update(Participant), next_due)
    return planned


_BATCH = 500  # rows per INSERT: well under SQLite's limit on bound parameters


def _insert_all(
    session: Session, messages: list[planner.PlannedMessage], now: datetime
) -> set[str]:
    """Insert the messages and their items; return the keys this call inserted.

    Multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` in batches: no
    savepoint (each would flush and snapshot the session) and no statement per
    message (a busy tick would pay one round trip per participant).
    """
    insert = insert_for(session)
    # Core tables with a list of parameter sets: one cached statement sent as
    # executemany (SQLAlchemy's "insertmanyvalues" batches it and keeps
    # RETURNING), instead of an ORM multi-VALUES statement compiled anew for
    # every batch, with every row converted by the ORM first.
    reminders = Reminder.__table__
    ids: dict[str, int] = {}
    for batch in _batches(messages):
        rows = session.execute(
            insert(reminders)
            .on_conflict_do_nothing(index_elements=["occurrence_key"])
            .returning(reminders.c.id, reminders.c.occurrence_key),
            [
                {
                    "occurrence_key": m.key,
                    "participant_id": m.participant_id,
                    "audience": m.audience,
                    "kind": m.kind.value,
                    "local_date": m.local_date,
                    "scheduled_at": m.scheduled_at,
                    "state": "planned",
                    "attempts": 0,
                    "next_attempt_at": m.scheduled_at,
                    "created_at": now,
                }
                for m in batch
            ],
        )
        ids.update({key: reminder_id for reminder_id, key in rows})
    new = [m for m in messages if m.key in ids]
    items = [
        {
            "reminder_id": ids[m.key],
            "occurrence_key": i.key,
            "kind": i.kind.value,
            "action_id": i.action_id,
        }
        for m in new
        for i in m.items
    ]
    for item_batch in _batches(items):
        session.execute(
            insert(ReminderItem.__table__).on_conflict_do_nothing(
                index_elements=["occurrence_key"]
            ),
            item_batch,
        )
    events = [
        {
            "at": now,
            "action": "reminder.planned",
            "participant_id": m.participant_id,
            "reminder_id": ids[m.key],
            "detail": f"{m.kind.value} for {m.local_date.isoformat()} ({len(m.items)} item(s))",
        }
        for m in new
    ]
    if events:
        session.execute(insert(Event.__table__), events)
    for m in new:
        log.info(
            "action=reminder.planned reminder=%s participant=%s kind=%s scheduled_at=%s",
            ids[m.key],
            m.participant_id,
            m.kind.value,
            m.scheduled_at.isoformat(),
        )
    for m in messages:
        if m.key not in ids:
            log.info("action=reminder.already_planned key=%s", m.key)
    return set(ids)


def _batches(rows: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), _BATCH):
        yield rows[start : start + _BATCH]


def facts_for(
    participants: Sequence[Participant], *, session: Session
) -> dict[int, planner.ParticipantFacts]:
    """The planner's facts for each participant (actions and programme loaded), by id."""
    found = history(session, [p.id for p in participants])
    return {p.id: participant_facts(p, *found.get(p.id, ((), frozenset()))) for p in participants}


def why_no_longer_wanted(reminders: Sequence[Reminder], *, session: Session) -> dict[int, str]:
    """Which outbox rows should not be sent after all, on today's facts, and why.

    The participants' facts are read for the whole batch at once; a row missing
    from the answer (a digest, or one still wanted) is sent.
    """
    participants = {r.participant.id: r.participant for r in reminders if r.participant}
    facts = facts_for(list(participants.values()), session=session)
    reasons: dict[int, str] = {}
    for reminder in reminders:
        if reminder.participant is None:  # a digest
            continue
        keys = [item.occurrence_key for item in reminder.items]
        why = why_obsolete(ReminderKind(reminder.kind), keys, facts[reminder.participant.id])
        if why is not None:
            reasons[reminder.id] = why
    return reasons
