"""What coordinators do by hand: record progress heard elsewhere, pause or resume someone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from tracker.core.addresses import normalise_email
from tracker.core.model import ParticipantState, UpdateSource
from tracker.db.orm import Event, Participant, Programme, Reminder, Update
from tracker.errors import NotFoundError, TrackerError
from tracker.inbound.grammar import read_updates
from tracker.services.planning import mark_for_planning
from tracker.services.recording import NewUpdate, record_updates


def find_participant(email: str, *, slug: str | None, session: Session) -> Participant:
    """The one participant with this address (in programme `slug` when given)."""
    try:
        address = normalise_email(email)  # the spelling the programme file stored
    except ValueError:
        address = email.strip().lower()  # not an address: found nowhere, said so below
    query = (
        select(Participant)
        .join(Programme)
        .where(Participant.email == address, Participant.archived_at.is_(None))
        .options(selectinload(Participant.actions), selectinload(Participant.programme))
    )
    if slug is not None:
        query = query.where(Programme.slug == slug)
    found = list(session.scalars(query))
    if not found:
        raise NotFoundError(f"no participant {email}" + (f" in {slug}" if slug else ""))
    if len(found) > 1:
        slugs = ", ".join(p.programme.slug for p in found)
        raise TrackerError(f"{email} is in several programmes ({slugs}): name one with --programme")
    return found[0]


def record_by_coordinator(
    participant: Participant, text: str, *, session: Session, now: datetime
) -> list[Update]:
    """Record progress a coordinator heard (a call, a meeting), written as a reply would be.

    Every line must name one of the participant's actions, or the whole text
    is one general note; nothing is recorded when a line names an unknown ref.
    """
    actions = {a.ref: a for a in participant.actions if a.archived_at is None}
    # Read once without the known refs: a line that looks like "7: done" for an
    # action they do not have is a typo to fix, not a note to keep.
    numbered, _ = read_updates(text)
    unknown = [line.ref for line in numbered if line.ref not in actions]
    if unknown:
        raise TrackerError(f"{participant.email} has no action {unknown[0]!r}")
    lines, general = read_updates(text, known_refs=list(actions))
    new = [
        NewUpdate(
            action=actions[line.ref], status=line.status, percent=line.percent, note=line.note
        )
        for line in lines
    ]
    if general:
        new.append(NewUpdate(action=None, status=None, percent=None, note=general))
    if not new:
        raise TrackerError("nothing to record: write a line like '2: in progress 60%, waiting'")
    return record_updates(
        participant, new, session=session, at=now, source=UpdateSource.COORDINATOR, now=now
    )


def set_participant_state(
    participant: Participant,
    state: ParticipantState,
    *,
    session: Session,
    now: datetime,
    actor: str = "cli",
) -> None:
    """Pause, resume or opt out a participant; what is planned for them follows.

    Any change of state ends a pause's end date (`paused_until`).
    """
    previous = participant.state
    if previous == state.value:
        raise TrackerError(f"{participant.email} is already {state.value}")
    participant.state = state.value
    participant.paused_until = None
    if state is ParticipantState.ACTIVE:
        participant.hard_bounces = 0  # a coordinator vouches for the address again
        mark_for_planning(participant)
    else:
        # What was planned but not sent would go out on resume as stale news.
        session.execute(
            update(Reminder)
            .where(
                Reminder.participant_id == participant.id,
                Reminder.audience == "participant",
                Reminder.state == "planned",
            )
            .values(state="cancelled")
        )
    session.add(
        Event(
            at=now,
            action=f"participant.{state.value}",
            participant_id=participant.id,
            programme_id=participant.programme_id,
            detail=f"was {previous}",
            actor=actor,
        )
    )
