"""Which reminders are due: the pure planner behind `send-due` and `tracker run`.

Input is plain data (a programme's `follow_up` rules, and what is known of
each participant) and an explicit `now`; output is the messages to put in the
outbox. No database, no clock, no I/O.

Occurrence keys (stable under re-import: built from ids and dates, never from
a rule's position in the file; the outbox keeps them UNIQUE):

=================  ==========================================================
check-in           ``check_in:p{participant_id}:{date}``
before-due         ``before_due:a{action_id}:{due}:{days}d``
overdue            ``overdue:a{action_id}:{due}:{date}``
escalation         ``escalate:p{participant_id}:r{reminder_id}`` (the first
                   unanswered reminder of the run it is about)
message            ``msg:`` + the smallest key among its items
=================  ==========================================================

`{date}` is the date the rule names, before any move to a working day.

Merging and the send moment: every participant item planned in one pass
goes into one message. Its `scheduled_at` is the latest send moment among its
items, so it is never before any item's `at`. To keep one participant's
reminders of one local day in one message, items already due are held back
while another reminder for them is still to come later that same local day;
the day's message is planned at the latest of that day's moments.

Catch-up: all check-ins of a participant form one series, and so do the
before-due reminders of one action and its overdue reminders; a series sends
only its latest due occurrence, once, and never one older than an occurrence
already planned (found in `planned_keys`).

Escalation: once the last `after_unanswered` participant reminders have had
no reply (`last_reply_at`, any action update, or a reminder marked answered)
since the first of them, the coordinators are told on the following local day
at the rule's `at` (the participant gets at least until then to answer the
last one). The key names the first reminder of the unanswered run, so the
run escalates once; a reply starts a new run, and with it a new key.

Bounds: a check-in without `count` runs until the participant's last action
due date (any status); after it the overdue rule chases. A before-due
reminder is never sent once its due date is over, however late the pass.
No series has more than `MAX_OCCURRENCES` dates. Times and working days are
the participant's (`tracker.core.calendar`). Participants who are not
active (paused, opted out, bouncing) get nothing, escalations included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from tracker.core.facts import (
    DEFAULT_AT,
    MAX_OCCURRENCES,
    ActionFacts,
    Audience,
    ParticipantFacts,
    Period,
    PeriodUnit,
    PlannedItem,
    PlannedMessage,
    Rule,
    SentReminder,
)
from tracker.core.model import ReminderKind
from tracker.core.participant_plan import ParticipantPlan
from tracker.core.timetable import Timetable

__all__ = [
    "DEFAULT_AT",
    "MAX_OCCURRENCES",
    "ActionFacts",
    "Audience",
    "ParticipantFacts",
    "ParticipantPlan",
    "Period",
    "PeriodUnit",
    "PlannedItem",
    "PlannedMessage",
    "Rule",
    "SentReminder",
    "Timetable",
    "due_reminders",
    "first_firing",
    "next_due",
    "planned_messages",
]

# A merged message is named after its most pressing item.
_PRIORITY = {ReminderKind.OVERDUE: 0, ReminderKind.BEFORE_DUE: 1, ReminderKind.CHECK_IN: 2}


def due_reminders(
    rules: Sequence[Rule], participants: Iterable[ParticipantFacts], *, now: datetime
) -> list[PlannedMessage]:
    """Every message due at `now`, not yet planned, ordered by `scheduled_at`.

    One `Timetable` serves every participant: each timeline of the rules is
    built once per calendar and date (see `tracker.core.timetable`).
    """
    _require_aware(now, "now")
    timetable = Timetable(rules, now)
    messages: list[PlannedMessage] = []
    for participant in participants:
        if participant.state.receives_reminders:
            messages.extend(planned_messages(timetable.plan(participant)))
    messages.sort(key=lambda m: (m.scheduled_at, m.participant_id, m.audience))
    return messages


def next_due(
    rules: Sequence[Rule], participant: ParticipantFacts, *, now: datetime
) -> datetime | None:
    """The first UTC moment at which `due_reminders` could plan something for them.

    Never later than the true first firing while the facts stay as given (store
    it as the participant's `next_due_at` and recompute it whenever rules,
    actions, updates, sends or plans change). It may be at or before `now`
    when something is due already. None: nothing can ever fire again.
    """
    _require_aware(now, "now")
    if not participant.state.receives_reminders:
        return None
    return first_firing(Timetable(rules, now).plan(participant))


def planned_messages(plan: ParticipantPlan) -> list[PlannedMessage]:
    """The messages due for one participant who receives reminders, at the plan's `now`.

    1. Take each series' due occurrence (see `Series.due`): its latest one
       at or before `now`, if usable and newer than anything planned.
    2. If any is due but another reminder for them falls later this same
       local day, plan nothing yet: the day's reminders go out together.
    3. Otherwise merge the due items into one message at the latest of
       their moments.
    4. Separately, plan an escalation to the coordinators if one is due.
    """
    message = _participant_message(plan)
    escalation = _escalation_message(plan)
    return [m for m in (message, escalation) if m is not None]


def first_firing(plan: ParticipantPlan) -> datetime | None:
    """`next_due` for the plan's participant (who receives reminders) at its `now`.

    1. Each series' first firing: its due occurrence, else its first usable
       occurrence after `now`; the earliest over all series.
    2. If that is already due but held back for a later reminder today
       (step 2 of `planned_messages`), the day's last moment instead.
    3. The escalation's moment, if one is pending; the earlier of the two.
    """
    firings = [m for s in plan.series if (m := s.first_firing()) is not None]
    first = min(firings, default=None)
    if first is not None and first <= plan.now:
        # Due already; while held for a later reminder today, nothing leaves
        # before that reminder's moment.
        first = plan.held_until() or first
    escalation = plan.escalation
    if escalation is not None and (first is None or escalation.moment < first):
        first = escalation.moment
    return first


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def _participant_message(plan: ParticipantPlan) -> PlannedMessage | None:
    """The participant's merged message due at `now`, if any (see the module docstring)."""
    due = plan.due_slots()
    if not due or plan.held_until() is not None:
        return None
    items = tuple(
        PlannedItem(key=series.key_of(slot.nominal), kind=series.kind, action_id=series.action_id)
        for series, slot in sorted(
            due,
            key=lambda pair: (
                _PRIORITY[pair[0].kind],
                pair[0].sort_date or date.min,
                pair[0].action_id or 0,
                pair[1].nominal,
            ),
        )
    )
    # The latest moment among the items: never before any item's `at`.
    scheduled_at = max(slot.moment for _, slot in due)
    return PlannedMessage(
        key="msg:" + min(item.key for item in items),
        participant_id=plan.participant.participant_id,
        audience="participant",
        kind=items[0].kind,
        local_date=scheduled_at.astimezone(plan.zone).date(),
        scheduled_at=scheduled_at,
        items=items,
    )


def _escalation_message(plan: ParticipantPlan) -> PlannedMessage | None:
    """The coordinators' message about this participant due at `now`, if any."""
    pending = plan.escalation
    if pending is None or pending.moment > plan.now:
        return None
    return PlannedMessage(
        key=f"msg:{pending.key}",
        participant_id=plan.participant.participant_id,
        audience="coordinators",
        kind=ReminderKind.ESCALATION,
        local_date=pending.moment.astimezone(plan.zone).date(),
        scheduled_at=pending.moment,
        items=(PlannedItem(key=pending.key, kind=ReminderKind.ESCALATION),),
    )
