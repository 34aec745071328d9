"""Applying a validated programme file to the database, in place.

Participants are matched by email and actions by ref, so a re-import updates
rows rather than adding them. Someone or something left out of the new file
is archived, not deleted: their history of updates stays, and they come back
if they reappear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.orm import Action, Coordinator, FollowUpRule, Participant, Programme
from tracker.programme.spec import ParticipantSpec, ProgrammeSpec, RuleSpec
from tracker.services.planning import mark_for_planning


@dataclass(slots=True)
class ImportReport:
    """What an import changed (or, for a dry run, would change)."""

    slug: str
    created: int = 0
    updated: int = 0
    archived: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "programme": self.slug,
            "created": self.created,
            "updated": self.updated,
            "archived": self.archived,
            "changes": self.changes,
        }


def import_programme(spec: ProgrammeSpec, *, session: Session, now: datetime) -> ImportReport:
    """Create or update the programme of `spec`; the caller commits or rolls back.

    1. The programme row, matched by slug.
    2. Its coordinators, matched by email (a coordinator may serve several programmes).
    3. Its follow-up rules, replaced as a whole when they differ.
    4. Participants by email and their actions by ref; absent ones archived.
    5. Every participant whose plan or rules changed is marked for re-planning.
    """
    report = ImportReport(slug=spec.slug)
    programme = session.scalar(select(Programme).where(Programme.slug == spec.slug))
    values = {
        "name": spec.name,
        "starts_on": spec.starts_on,
        "ends_on": spec.ends_on,
        "timezone": spec.timezone,
        "language": spec.language,
        "country": spec.country,
        "working_days_only": spec.working_days_only,
        "acknowledge_replies": spec.acknowledge_replies,
        "weekly_digest": spec.weekly_digest,
    }
    if programme is None:
        programme = Programme(slug=spec.slug, created_at=now, updated_at=now, **values)
        session.add(programme)
        report.created += 1
        report.changes.append(f"programme {spec.slug}: new")
    elif changed := _assign(programme, values):
        programme.updated_at = now
        report.updated += 1
        report.changes.append(f"programme {spec.slug}: {', '.join(changed)} changed")
    session.flush()

    _import_coordinators(programme, spec, session=session, now=now, report=report)
    rules_changed = _import_rules(programme, spec.rules, session=session)
    if rules_changed:
        report.changes.append(f"follow-up rules: {len(spec.rules)} rule(s) set")
        report.updated += report.created == 0
    _import_participants(
        programme, spec, session=session, now=now, report=report, replan_all=rules_changed
    )
    session.flush()
    return report


def _import_coordinators(
    programme: Programme,
    spec: ProgrammeSpec,
    *,
    session: Session,
    now: datetime,
    report: ImportReport,
) -> None:
    wanted: list[Coordinator] = []
    for person in spec.coordinators:
        coordinator = session.scalar(select(Coordinator).where(Coordinator.email == person.email))
        if coordinator is None:
            coordinator = Coordinator(email=person.email, name=person.name, created_at=now)
            session.add(coordinator)
            report.created += 1
            report.changes.append(f"coordinator {person.email}: new")
        elif coordinator.name != person.name:
            coordinator.name = person.name
            report.updated += 1
            report.changes.append(f"coordinator {person.email}: name changed")
        wanted.append(coordinator)
    current = {c.email for c in programme.coordinators}
    if current != {c.email for c in wanted}:
        for email in sorted(current - {c.email for c in wanted}):
            report.changes.append(f"coordinator {email}: no longer on {programme.slug}")
        for email in sorted({c.email for c in wanted} - current):
            if not any(line == f"coordinator {email}: new" for line in report.changes):
                report.changes.append(f"coordinator {email}: added to {programme.slug}")
        programme.coordinators = wanted


def _rule_values(rule: RuleSpec | FollowUpRule) -> dict[str, Any]:
    if isinstance(rule, FollowUpRule):
        return {
            "kind": rule.kind,
            "at_time": rule.at_time,
            "every_count": rule.every_count,
            "every_unit": rule.every_unit,
            "first_on": rule.first_on,
            "count": rule.count,
            "days": rule.days,
            "every_days": rule.every_days,
            "max_count": rule.max_count,
            "after_unanswered": rule.after_unanswered,
        }
    return {
        "kind": rule.kind.value,
        "at_time": rule.at.strftime("%H:%M") if rule.at else None,
        "every_count": rule.every_count,
        "every_unit": rule.every_unit,
        "first_on": rule.first,
        "count": rule.count,
        "days": rule.days,
        "every_days": rule.every_days,
        "max_count": rule.max_count,
        "after_unanswered": rule.after_unanswered,
    }


def _import_rules(programme: Programme, rules: tuple[RuleSpec, ...], *, session: Session) -> bool:
    """Replace the programme's rules when they differ; say whether they did."""
    wanted = [_rule_values(rule) for rule in rules]
    if [_rule_values(rule) for rule in programme.rules] == wanted:
        return False
    programme.rules.clear()
    # Flush the deletions first: the unit of work inserts before it deletes, and
    # (programme, position) is unique.
    session.flush()
    programme.rules.extend(
        FollowUpRule(position=position, **values) for position, values in enumerate(wanted)
    )
    return True


def _import_participants(
    programme: Programme,
    spec: ProgrammeSpec,
    *,
    session: Session,
    now: datetime,
    report: ImportReport,
    replan_all: bool,
) -> None:
    existing = {
        p.email: p
        for p in session.scalars(
            select(Participant).where(Participant.programme_id == programme.id)
        )
    }
    for person in spec.participants:
        participant = existing.pop(person.email, None)
        label = f"participant {person.email}"
        values = {
            "name": person.name,
            "organisation": person.organisation,
            "language": person.language,
            "timezone": person.timezone,
            "country": person.country,
        }
        if participant is None:
            participant = Participant(
                programme=programme,
                email=person.email,
                created_at=now,
                updated_at=now,
                state="active",
                hard_bounces=0,
                **values,
            )
            session.add(participant)
            session.flush()
            report.created += 1
            report.changes.append(f"{label}: new")
            changed = True
        else:
            fields = _assign(participant, values)
            if participant.archived_at is not None:
                participant.archived_at = None
                fields.append("restored")
            if fields:
                participant.updated_at = now
                report.updated += 1
                report.changes.append(f"{label}: {', '.join(fields)}")
            changed = bool(fields)
        actions_changed = _import_actions(
            participant, person, session=session, now=now, report=report
        )
        if changed or actions_changed or replan_all:
            mark_for_planning(participant)
    for participant in existing.values():
        if participant.archived_at is None:
            participant.archived_at = now
            participant.next_due_at = None
            participant.updated_at = now
            report.archived += 1
            report.changes.append(f"participant {participant.email}: archived (not in the file)")


def _import_actions(
    participant: Participant,
    person: ParticipantSpec,
    *,
    session: Session,
    now: datetime,
    report: ImportReport,
) -> bool:
    existing = {
        a.ref: a
        for a in session.scalars(select(Action).where(Action.participant_id == participant.id))
    }
    changed = False
    for position, item in enumerate(person.actions):
        action = existing.pop(item.ref, None)
        label = f"action {item.ref} of {person.email}"
        values = {"title": item.title, "due_on": item.due, "position": position}
        if action is None:
            session.add(
                Action(
                    participant=participant,
                    ref=item.ref,
                    status="not_started",
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            report.created += 1
            report.changes.append(f"{label}: new")
            changed = True
            continue
        fields = _assign(action, values)
        if action.archived_at is not None:
            action.archived_at = None
            fields.append("restored")
        visible = [f for f in fields if f != "position"]
        if fields:
            action.updated_at = now
            changed = True
        if visible:
            report.updated += 1
            report.changes.append(f"{label}: {', '.join(visible)}")
    for action in existing.values():
        if action.archived_at is None:
            action.archived_at = now
            action.updated_at = now
            report.archived += 1
            report.changes.append(
                f"action {action.ref} of {person.email}: archived (not in the file)"
            )
            changed = True
    return changed


def _assign(row: Any, values: dict[str, Any]) -> list[str]:
    """Set the attributes that differ; return the names of those changed."""
    changed = []
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name.removesuffix("_on") if name == "due_on" else name)
    return changed
