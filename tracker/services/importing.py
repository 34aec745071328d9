"""Applying a validated programme file to the database, in place.

Participants are matched by email and actions by ref, so a re-import updates
rows rather than adding them. Someone or something left out of the new file
is archived, not deleted: their history of updates stays, and they come back
if they reappear.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.db.orm import Action, Coordinator, Participant, Programme
from tracker.programme.spec import ParticipantSpec, ProgrammeSpec
from tracker.services.email_change import change_participant_email
from tracker.services.import_report import Change, ImportReport, field_changes
from tracker.services.import_rules import import_rules
from tracker.services.planning import mark_for_planning

__all__ = ["Change", "ImportReport", "import_programme"]

_INHERITED = "(the programme's)"  # a participant's language, zone or country left unset
_CHUNK = 100  # participants matched, written and let go together (500: +12 MB, no faster)


def import_programme(
    spec: ProgrammeSpec,
    *,
    session: Session,
    now: datetime,
    advance: Callable[[int], None] | None = None,
    keep_changes: int | None = None,
) -> ImportReport:
    """Create or update the programme of `spec`; the caller commits or rolls back.

    1. The programme row, matched by slug.
    2. Its coordinators, matched by email (a coordinator may serve several programmes).
    3. Its follow-up rules, replaced as a whole when they differ.
    4. Participants by email (or by one of their `previous_emails`, whose
       address then changes) and their actions by ref; absent ones archived.
    5. Every participant whose plan or rules changed is marked for re-planning.
    `advance(1)` is called after each participant, for a progress bar; the
    report lists the first `keep_changes` changes (None: all) and counts them all.
    """
    report = ImportReport(slug=spec.slug, keep=keep_changes)
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
    subject = f"programme {spec.slug}"
    new_programme = programme is None
    if programme is None:
        programme = Programme(slug=spec.slug, created_at=now, updated_at=now, **values)
        session.add(programme)
        report.created += 1
        report.add(Change(entity="programme", subject=subject, what="new"))
    else:
        old = {name: getattr(programme, name) for name in values}
        if changes := field_changes(
            "programme", subject, _pairs(old, values), quoted=frozenset({"name"})
        ):
            _assign(programme, values)
            programme.updated_at = now
            report.updated += 1
            report.add(*changes)
    session.flush()

    _import_coordinators(programme, spec, session=session, now=now, report=report)
    rules_changed = import_rules(programme, spec.rules, session=session, report=report)
    if rules_changed and not new_programme:
        report.updated += 1  # the rules, as one thing
    _import_participants(
        programme,
        spec,
        session=session,
        now=now,
        report=report,
        replan_all=rules_changed,
        advance=advance or _ignore,
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
    new: set[str] = set()
    for person in spec.coordinators:
        subject = f"coordinator {person.email}"
        coordinator = session.scalar(select(Coordinator).where(Coordinator.email == person.email))
        if coordinator is None:
            coordinator = Coordinator(email=person.email, name=person.name, created_at=now)
            session.add(coordinator)
            report.created += 1
            report.add(Change(entity="coordinator", subject=subject, what="new"))
            new.add(person.email)
        elif coordinator.name != person.name:
            report.add(
                *field_changes(
                    "coordinator",
                    subject,
                    {"name": (coordinator.name, person.name)},
                    quoted=frozenset({"name"}),
                )
            )
            coordinator.name = person.name
            report.updated += 1
        wanted.append(coordinator)
    current = {c.email for c in programme.coordinators}
    emails = {c.email for c in wanted}
    if current != emails:
        for email in sorted(current - emails):
            report.add(
                Change(
                    entity="coordinator",
                    subject=f"coordinator {email}",
                    what="removed",
                    note=f"from {programme.slug}",
                )
            )
        for email in sorted(emails - current - new):
            report.add(
                Change(
                    entity="coordinator",
                    subject=f"coordinator {email}",
                    what="added",
                    note=f"to {programme.slug}",
                )
            )
        programme.coordinators = wanted


def _import_participants(
    programme: Programme,
    spec: ProgrammeSpec,
    *,
    session: Session,
    now: datetime,
    report: ImportReport,
    replan_all: bool,
    advance: Callable[[int], None],
) -> None:
    """The file's participants, `_CHUNK` at a time, then the archiving of those it left out.

    Per chunk: one query finds its participants' rows (by current or previous
    address) with their actions, one flush writes them, and they are let go,
    so memory holds a chunk, not the programme. Matching a chunk alone is the
    same as matching the whole file at once: a previous address is nobody's
    current address in the file and names one person only (the file's checks).
    """
    matched: set[int] = set()  # ids of the rows the file names
    people = iter(spec.participants)
    while chunk := list(itertools.islice(people, _CHUNK)):
        rows = _participant_rows(programme, chunk, session=session)
        written = [
            _import_participant(
                programme,
                person,
                rows,
                session=session,
                now=now,
                report=report,
                replan_all=replan_all,
                advance=advance,
            )
            for person in chunk
        ]
        session.flush()
        matched.update(participant.id for participant in written)
        for participant in written:
            for action in participant.actions:
                session.expunge(action)
            session.expunge(participant)
    _archive_participants(programme, matched, session=session, now=now, report=report)


def _participant_rows(
    programme: Programme, chunk: list[ParticipantSpec], *, session: Session
) -> dict[str, Participant]:
    """The chunk's participants, by current or previous address, with their actions."""
    emails = {address for person in chunk for address in (person.email, *person.previous_emails)}
    rows = session.scalars(
        select(Participant)
        .where(Participant.programme_id == programme.id, Participant.email.in_(emails))
        .options(selectinload(Participant.actions))
    )
    return {participant.email: participant for participant in rows}


def _import_participant(
    programme: Programme,
    person: ParticipantSpec,
    rows: dict[str, Participant],
    *,
    session: Session,
    now: datetime,
    report: ImportReport,
    replan_all: bool,
    advance: Callable[[int], None],
) -> Participant:
    participant = rows.pop(person.email, None)
    label = f"participant {person.email}"
    values = {
        "name": person.name,
        "organisation": person.organisation,
        "language": person.language,
        "timezone": person.timezone,
        "country": person.country,
    }
    renamed: list[Change] = []
    if participant is None:
        participant = _previous_participant(person, rows)
        if participant is not None:
            old = change_participant_email(
                participant, person.email, session=session, now=now, by="an import"
            )
            renamed = field_changes("participant", label, {"email": (old, person.email)})
    if participant is None:
        # By id, not `programme=`: the programme's list of participants would keep them all.
        participant = Participant(
            programme_id=programme.id,
            email=person.email,
            created_at=now,
            updated_at=now,
            state="active",
            hard_bounces=0,
            actions=[],
            **values,
        )
        session.add(participant)
        report.created += 1
        report.add(Change(entity="participant", subject=label, what="new"))
        changed = True
    else:
        changed = _update_participant(
            participant, values, label=label, now=now, report=report, renamed=renamed
        )
    actions_changed = _import_actions(participant, person, now=now, report=report)
    if changed or actions_changed or replan_all:
        mark_for_planning(participant)
    advance(1)
    return participant


def _archive_participants(
    programme: Programme,
    matched: set[int],
    *,
    session: Session,
    now: datetime,
    report: ImportReport,
) -> None:
    """Archive the programme's participants the file left out, in the order of their ids."""
    left_out = [
        id_
        for id_ in session.scalars(
            select(Participant.id)
            .where(Participant.programme_id == programme.id, Participant.archived_at.is_(None))
            .order_by(Participant.id)
        )
        if id_ not in matched
    ]
    for start in range(0, len(left_out), _CHUNK):
        ids = left_out[start : start + _CHUNK]
        for participant in session.scalars(
            select(Participant).where(Participant.id.in_(ids)).order_by(Participant.id)
        ):
            participant.archived_at = now
            participant.next_due_at = None
            participant.updated_at = now
            report.archived += 1
            report.add(
                Change(
                    entity="participant",
                    subject=f"participant {participant.email}",
                    what="archived",
                    note="not in the file",
                )
            )
        session.flush()


def _previous_participant(
    person: ParticipantSpec, rows: dict[str, Participant]
) -> Participant | None:
    """The not yet matched participant known under one of `person`'s previous addresses."""
    for address in person.previous_emails:
        if address in rows:
            return rows.pop(address)
    return None


def _update_participant(
    participant: Participant,
    values: dict[str, Any],
    *,
    label: str,
    now: datetime,
    report: ImportReport,
    renamed: list[Change],
) -> bool:
    old = {name: getattr(participant, name) for name in values}
    changes = renamed + [
        change
        for name in values
        for change in field_changes(
            "participant",
            label,
            {name: (old[name], values[name])},
            quoted=frozenset({"name", "organisation"}),
            unset=_INHERITED if name in ("language", "timezone", "country") else "(none)",
        )
    ]
    _assign(participant, values)
    if participant.archived_at is not None:
        participant.archived_at = None
        changes.append(Change(entity="participant", subject=label, what="restored"))
    if changes:
        participant.updated_at = now
        report.updated += 1
        report.add(*changes)
    return bool(changes)


def _import_actions(
    participant: Participant,
    person: ParticipantSpec,
    *,
    now: datetime,
    report: ImportReport,
) -> bool:
    existing = {a.ref: a for a in participant.actions}
    changed = False
    for position, item in enumerate(person.actions):
        action = existing.pop(item.ref, None)
        label = f"action {item.ref} of {person.email}"
        values = {"title": item.title, "due_on": item.due, "position": position}
        if action is None:
            participant.actions.append(
                Action(
                    ref=item.ref,
                    status="not_started",
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            report.created += 1
            report.add(Change(entity="action", subject=label, what="new"))
            changed = True
            continue
        visible = field_changes(
            "action",
            label,
            {"title": (action.title, item.title), "due": (action.due_on, item.due)},
            quoted=frozenset({"title"}),
        )
        moved = action.position != position
        _assign(action, values)
        if action.archived_at is not None:
            action.archived_at = None
            visible.append(Change(entity="action", subject=label, what="restored"))
        if visible or moved:
            action.updated_at = now
            changed = True
        if visible:
            report.updated += 1
            report.add(*visible)
    for action in existing.values():
        if action.archived_at is None:
            action.archived_at = now
            action.updated_at = now
            report.archived += 1
            report.add(
                Change(
                    entity="action",
                    subject=f"action {action.ref} of {person.email}",
                    what="archived",
                    note="not in the file",
                )
            )
            changed = True
    return changed


def _pairs(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[object, object]]:
    return {name: (old[name], new[name]) for name in new}


def _assign(row: Any, values: dict[str, Any]) -> None:
    """Set the attributes that differ."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def _ignore(_n: int) -> None:
    return None
