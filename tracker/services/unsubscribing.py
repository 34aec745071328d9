"""Unsubscribing from a participant's personal link (RFC 8058 one-click), and undoing it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tracker.core.model import ParticipantState
from tracker.db.orm import Participant
from tracker.services.coordinating import set_participant_state

LINK_ACTOR = "participant:link"


def unsubscribe(participant: Participant, *, session: Session, now: datetime) -> bool:
    """Opt `participant` out (planned mail cancelled); False when they already were."""
    if participant.state == ParticipantState.OPTED_OUT.value:
        return False
    set_participant_state(
        participant, ParticipantState.OPTED_OUT, session=session, now=now, actor=LINK_ACTOR
    )
    return True


def resubscribe(participant: Participant, *, session: Session, now: datetime) -> bool:
    """Undo an opt-out: `participant` is active again; False when they were not opted out."""
    if participant.state != ParticipantState.OPTED_OUT.value:
        return False
    set_participant_state(
        participant, ParticipantState.ACTIVE, session=session, now=now, actor=LINK_ACTOR
    )
    return True
