"""A programme's follow-up schedule: show it, preview what rules would send, replace them.

The preview runs the planner forward (`tracker.core.forecast`) for every
participant who receives reminders, from their real facts (actions, what was
sent and planned), assuming nobody replies. Saving replaces the rules as an
import does, re-plans every participant and logs who changed what.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.core.calendar import public_holidays
from tracker.core.facts import SentReminder
from tracker.core.forecast import forecast
from tracker.core.model import ReminderKind, RuleKind
from tracker.db.orm import Event, FollowUpRule, Participant, Programme, Reminder
from tracker.errors import NotFoundError, TrackerError
from tracker.programme.rules import planner_rule, rule_line
from tracker.programme.spec import RuleSpec
from tracker.services.import_report import ImportReport
from tracker.services.import_rules import import_rules
from tracker.services.planning import facts_for, mark_for_planning
from tracker.services.roster import current_participants

PREVIEW_DAYS = 90
MAX_PREVIEW_DAYS = 366


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewEntry:
    """One message in the preview, in the participant's local time."""

    local_date: date
    local_time: time
    sends_at: datetime  # UTC
    kind: ReminderKind
    audience: str  # participant | coordinators
    refs: tuple[str, ...]  # the actions it asks about
    queued: bool = False  # already in the outbox, waiting to be sent


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantPreview:
    participant_id: int
    name: str
    email: str
    organisation: str | None
    timezone: str
    country: str | None
    state: str
    entries: tuple[PreviewEntry, ...]
    holidays: tuple[tuple[date, str], ...]  # public holidays of their country in the window


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulePreview:
    slug: str
    start: datetime
    end: datetime
    rules: tuple[RuleSpec, ...]
    participants: tuple[ParticipantPreview, ...]

    @property
    def messages(self) -> int:
        return sum(len(p.entries) for p in self.participants)

    def count(self, kind: ReminderKind | str) -> int:
        return sum(1 for p in self.participants for e in p.entries if e.kind == kind)


def find_programme(slug: str, *, session: Session) -> Programme:
    programme = session.scalar(select(Programme).where(Programme.slug == slug))
    if programme is None:
        raise NotFoundError(f"no programme with slug {slug!r}")
    return programme


def current_rules(programme: Programme) -> tuple[RuleSpec, ...]:
    """The programme's rules as the file states them."""
    return tuple(rule_spec(row) for row in programme.rules)


def rule_spec(row: FollowUpRule) -> RuleSpec:
    return RuleSpec(
        kind=RuleKind(row.kind),
        at=time.fromisoformat(row.at_time) if row.at_time else None,
        every_count=row.every_count,
        every_unit=row.every_unit,
        first=row.first_on,
        count=row.count,
        days=row.days,
        every_days=row.every_days,
        max_count=row.max_count,
        after_unanswered=row.after_unanswered,
    )


def preview_schedule(
    programme: Programme,
    rules: Sequence[RuleSpec],
    *,
    session: Session,
    now: datetime,
    days: int = PREVIEW_DAYS,
    holiday_language: str | None = None,
) -> SchedulePreview:
    """Every message `rules` would send in the `days` from `now`, per participant.

    1. Load the participants who are followed up, with their planner facts.
    2. Messages already waiting in the outbox go out whatever the rules:
       they are listed (marked queued) and count as sent for escalations.
    3. Run the planner forward over the window for each (`forecast`).
    4. Add the public holidays of each participant's country in the window.
    """
    if not 1 <= days <= MAX_PREVIEW_DAYS:
        raise TrackerError(f"a preview covers 1 to {MAX_PREVIEW_DAYS} days, not {days}")
    planner_rules = [planner_rule(rule) for rule in rules]
    end = now + timedelta(days=days)
    participants = current_participants(
        programme.id,
        session=session,
        order=(Participant.name, Participant.id),
        with_programme=True,
    )
    facts = facts_for(participants, session=session)
    queued = _queued(session, [p.id for p in participants])
    previews = []
    for participant in participants:
        zone = ZoneInfo(participant.effective_timezone)
        waiting = queued.get(participant.id, [])
        extra_sent = tuple(
            SentReminder(
                reminder_id=r.id, kind=ReminderKind(r.kind), sent_at=max(r.next_attempt_at, now)
            )
            for r in waiting
            if r.audience == "participant"
        )
        person = facts[participant.id]
        person = dataclasses.replace(person, sent=person.sent + extra_sent)
        entries = [_queued_entry(reminder, zone, now) for reminder in waiting] + [
            PreviewEntry(
                local_date=item.sends_at.astimezone(zone).date(),
                local_time=item.sends_at.astimezone(zone).time().replace(tzinfo=None),
                sends_at=item.sends_at,
                kind=item.message.kind,
                audience=item.message.audience,
                refs=_refs(participant, [i.action_id for i in item.message.items]),
            )
            for item in forecast(planner_rules, person, start=now, end=end)
        ]
        country = participant.effective_country
        previews.append(
            ParticipantPreview(
                participant_id=participant.id,
                name=participant.name,
                email=participant.email,
                organisation=participant.organisation,
                timezone=participant.effective_timezone,
                country=country,
                state=participant.state,
                entries=tuple(sorted(entries, key=lambda e: e.sends_at)),
                holidays=tuple(
                    public_holidays(
                        country,
                        now.astimezone(zone).date(),
                        end.astimezone(zone).date(),
                        language=holiday_language,
                    )
                ),
            )
        )
    return SchedulePreview(
        slug=programme.slug, start=now, end=end, rules=tuple(rules), participants=tuple(previews)
    )


def save_schedule(
    programme: Programme,
    rules: Sequence[RuleSpec],
    *,
    session: Session,
    now: datetime,
    actor: str,
) -> list[str]:
    """Replace the programme's rules; return what changed (empty: nothing did).

    One transaction (the caller's): the rules are replaced as an import
    replaces them (with its report of each change, old → new), every
    participant is marked for re-planning, and the audit log records who
    changed what.
    """
    for rule in rules:
        try:
            planner_rule(rule)
        except ValueError as error:
            raise TrackerError(f"{rule_line(rule)}: {error}") from None
    report = ImportReport(slug=programme.slug)
    if not import_rules(programme, tuple(rules), session=session, report=report):
        return []
    changes = report.lines()
    for participant in current_participants(programme.id, session=session):
        mark_for_planning(participant)
    session.add(
        Event(
            at=now,
            action="schedule.changed",
            programme_id=programme.id,
            actor=actor,
            detail="; ".join(changes),
        )
    )
    session.flush()
    return changes


def _queued(session: Session, participant_ids: list[int]) -> dict[int, list[Reminder]]:
    found: dict[int, list[Reminder]] = {}
    if not participant_ids:
        return found
    rows = session.scalars(
        select(Reminder)
        .where(
            Reminder.participant_id.in_(participant_ids),
            Reminder.state.in_(("planned", "sending")),
            Reminder.kind != ReminderKind.ACKNOWLEDGEMENT.value,
        )
        .order_by(Reminder.next_attempt_at)
        .options(selectinload(Reminder.items))
    )
    for reminder in rows:
        assert reminder.participant_id is not None
        found.setdefault(reminder.participant_id, []).append(reminder)
    return found


def _queued_entry(reminder: Reminder, zone: ZoneInfo, now: datetime) -> PreviewEntry:
    sends_at = max(reminder.next_attempt_at, now)
    local = sends_at.astimezone(zone)
    return PreviewEntry(
        local_date=local.date(),
        local_time=local.time().replace(tzinfo=None),
        sends_at=sends_at,
        kind=ReminderKind(reminder.kind),
        audience=reminder.audience,
        refs=_refs(reminder.about, [item.action_id for item in reminder.items]),
        queued=True,
    )


def _refs(participant: Participant, action_ids: Sequence[int | None]) -> tuple[str, ...]:
    by_id = {a.id: a.ref for a in participant.actions}
    return tuple(by_id[i] for i in action_ids if i is not None and i in by_id)
