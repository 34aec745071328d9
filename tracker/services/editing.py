"""Adding or editing one participant or action without a file (the web form, `tracker
participant add|edit`, `tracker action add|edit|archive`).

The same checks as the programme file (`tracker.programme.fields`); the same
rules as an import (an address or ref that was archived is restored, never
duplicated; nothing is deleted); the participant is re-planned; the audit log
records who changed what, old → new. A participant's address changes only
through `participant change-email`, which keeps their history.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.orm import Action, Event, Participant, Programme
from tracker.errors import NotFoundError, TrackerError
from tracker.programme.fields import (
    ACTION_FIELDS,
    PARTICIPANT_FIELDS,
    FieldsError,
    read_fields,
)
from tracker.programme.fields import participant_fields as participant_converters
from tracker.services.planning import mark_for_planning

_EDITABLE_PARTICIPANT = tuple(name for name in PARTICIPANT_FIELDS if name != "email")
_EDITABLE_ACTION = {k: v for k, v in ACTION_FIELDS.items() if k != "ref"}
# The file's key for each column (an action's due date is `due` there).
_COLUMN = {"due": "due_on"}


def add_participant(
    programme: Programme,
    fields: Mapping[str, str],
    *,
    session: Session,
    now: datetime,
    actor: str,
    languages: Collection[str] | None = None,
) -> Participant:
    """A new participant (or one archived, restored with these values).

    `languages`: the mail templates' languages (see `fields.template_language`).
    """
    converters = participant_converters(languages)
    values = read_fields(fields, converters, required=frozenset({"email", "name"}))
    email = values.pop("email")
    participant = session.scalar(
        select(Participant).where(
            Participant.programme_id == programme.id, Participant.email == email
        )
    )
    if participant is not None and participant.archived_at is None:
        raise FieldsError({"email": f"{email} is already a participant of {programme.slug}"})
    if participant is None:
        participant = Participant(
            programme=programme,
            email=email,
            state="active",
            hard_bounces=0,
            created_at=now,
            updated_at=now,
            **values,
        )
        session.add(participant)
        what = "participant.added"
    else:
        _restore(participant, values, now)
        what = "participant.restored"
    session.flush()
    mark_for_planning(participant)
    _log(session, participant, what, actor, now, _described(values, email=email))
    return participant


def edit_participant(
    participant: Participant,
    fields: Mapping[str, str],
    *,
    session: Session,
    now: datetime,
    actor: str,
    languages: Collection[str] | None = None,
) -> list[str]:
    """Change the fields named (a blank optional one: the programme's); return old → new."""
    if "email" in fields:
        raise FieldsError({"email": "change an address with change-email: it keeps the history"})
    editable = {k: v for k, v in participant_converters(languages).items() if k != "email"}
    values = read_fields(fields, editable, required=frozenset())
    if "name" in values and values["name"] is None:
        raise FieldsError({"name": "must not be empty"})
    changes = _apply(participant, values)
    if changes:
        participant.updated_at = now
        mark_for_planning(participant)
        _log(session, participant, "participant.edited", actor, now, "; ".join(changes))
    return changes


def add_action(
    participant: Participant,
    fields: Mapping[str, str],
    *,
    session: Session,
    now: datetime,
    actor: str,
) -> Action:
    """A new action of the participant (or an archived one with this ref, restored)."""
    values = read_fields(fields, ACTION_FIELDS, required=frozenset(ACTION_FIELDS))
    ref = values.pop("ref")
    actions = list(session.scalars(select(Action).where(Action.participant_id == participant.id)))
    action = next((a for a in actions if a.ref == ref), None)
    problems = _due_problems(participant, values["due"])
    if action is not None and action.archived_at is None:
        problems["ref"] = f"{participant.email} already has an action {ref!r}"
    if problems:
        raise FieldsError(problems)
    if action is None:
        action = Action(
            participant=participant,
            ref=ref,
            title=values["title"],
            due_on=values["due"],
            position=max((a.position for a in actions), default=-1) + 1,
            status="not_started",
            created_at=now,
            updated_at=now,
        )
        session.add(action)
        what = "action.added"
    else:
        _restore(action, values, now)
        what = "action.restored"
    session.flush()
    mark_for_planning(participant)
    _log(session, participant, what, actor, now, _described(values, ref=ref))
    return action


def edit_action(
    action: Action,
    fields: Mapping[str, str],
    *,
    session: Session,
    now: datetime,
    actor: str,
) -> list[str]:
    """Change an action's title or due date; return old → new."""
    if "ref" in fields:
        raise FieldsError({"ref": "a ref names the action in replies: add a new action instead"})
    values = read_fields(fields, _EDITABLE_ACTION, required=frozenset())
    for name in ("title", "due"):
        if name in values and values[name] is None:
            raise FieldsError({name: "must not be empty"})
    if values.get("due") is not None and (
        problems := _due_problems(action.participant, values["due"])
    ):
        raise FieldsError(problems)
    changes = [f"action {action.ref}: {line}" for line in _apply(action, values)]
    if changes:
        action.updated_at = now
        mark_for_planning(action.participant)
        _log(session, action.participant, "action.edited", actor, now, "; ".join(changes))
    return changes


def archive_action(action: Action, *, session: Session, now: datetime, actor: str) -> None:
    """Stop following an action up; its updates stay (a later import or add restores it)."""
    if action.archived_at is not None:
        raise TrackerError(f"action {action.ref} of {action.participant.email} is archived already")
    action.archived_at = now
    action.updated_at = now
    mark_for_planning(action.participant)
    _log(session, action.participant, "action.archived", actor, now, f"action {action.ref}")


def find_action(participant: Participant, ref: str, *, session: Session) -> Action:
    action = session.scalar(
        select(Action).where(Action.participant_id == participant.id, Action.ref == ref.strip())
    )
    if action is None:
        raise NotFoundError(f"{participant.email} has no action {ref!r}")
    return action


def _due_problems(participant: Participant, due: date) -> dict[str, str]:
    starts = participant.programme.starts_on
    if due < starts:
        return {"due": f"{due} is before the programme starts ({starts})"}
    return {}


def _apply(row: Participant | Action, values: dict[str, Any]) -> list[str]:
    """Set what differs; return `field: old → new` for each."""
    changes = []
    for name, value in values.items():
        column = _COLUMN.get(name, name)
        old = getattr(row, column)
        if old != value:
            setattr(row, column, value)
            changes.append(f"{name}: {_shown(old)} → {_shown(value)}")
    return changes


def _restore(row: Participant | Action, values: dict[str, Any], now: datetime) -> None:
    """Bring an archived row back with the values given."""
    _apply(row, values)
    row.archived_at = None
    row.updated_at = now


def _shown(value: object) -> str:
    if value is None:
        return "(the programme's)"
    return value.isoformat() if isinstance(value, date) else str(value)


def _described(values: dict[str, Any], **first: str) -> str:
    parts = [*first.values()]
    parts += [f"{k}: {_shown(v)}" for k, v in values.items() if v is not None]
    return "; ".join(parts)


def _log(
    session: Session, participant: Participant, what: str, actor: str, now: datetime, detail: str
) -> None:
    session.add(
        Event(
            at=now,
            action=what,
            programme_id=participant.programme_id,
            participant_id=participant.id,
            actor=actor,
            detail=detail,
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionFields:
    ref: str
    title: str
    due: str  # YYYY-MM-DD, as the form shows it
    status: str
    archived: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantFields:
    """A participant as the editing form shows it (blank: the programme's)."""

    participant_id: int
    programme_name: str
    email: str
    fields: dict[str, str]  # name, organisation, language, timezone, country
    actions: tuple[ActionFields, ...]
    programme_language: str
    programme_timezone: str
    programme_country: str


def participant_fields(participant: Participant, *, session: Session) -> ParticipantFields:
    programme = participant.programme
    actions = session.scalars(
        select(Action).where(Action.participant_id == participant.id).order_by(Action.position)
    )
    return ParticipantFields(
        participant_id=participant.id,
        programme_name=programme.name,
        email=participant.email,
        fields={name: getattr(participant, name) or "" for name in _EDITABLE_PARTICIPANT},
        actions=tuple(
            ActionFields(
                ref=a.ref,
                title=a.title,
                due=a.due_on.isoformat(),
                status=a.status,
                archived=a.archived_at is not None,
            )
            for a in actions
        ),
        programme_language=programme.language,
        programme_timezone=programme.timezone,
        programme_country=programme.country or "",
    )
