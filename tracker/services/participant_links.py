"""Participants' personal links: made for the mail, checked when someone opens one.

The token itself is pure (`tracker.core.links`); here it meets the database. A
link opens nothing when the participant's row no longer matches what it signs
(another email, another programme), when it has expired, when the participant
is archived, or (for the update page) when they have opted out. The
unsubscribe page takes a link even when it has expired or the participant
already opted out: unsubscribing must keep working from old mail, and an
opted-out participant may want to undo it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from tracker.core.links import (
    LinkFacts,
    link_expired,
    link_expiry,
    link_matches,
    make_link_token,
    read_link_token,
)
from tracker.core.model import ParticipantState
from tracker.db.orm import Participant


class LinkProblem(StrEnum):
    """Why a link opens nothing: the page says so, never whose link it was."""

    INVALID = "invalid"  # not a link of ours, altered, or its participant's email changed
    EXPIRED = "expired"
    CLOSED = "closed"  # the participant opted out or was archived


class LinkRefused(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class PersonalLinks:
    """The two links a participant's mail carries."""

    page: str  # https://…/u/<token>
    unsubscribe: str  # https://…/unsubscribe/<token>


def link_facts(participant: Participant) -> LinkFacts:
    return LinkFacts(
        participant_id=participant.id,
        programme_id=participant.programme_id,
        email=participant.email,
    )


def personal_links(
    participant: Participant, *, public_url: str, secret_key: str, now: datetime, valid_days: int
) -> PersonalLinks:
    """The page and unsubscribe links of `participant`, made at `now`."""
    token = make_link_token(
        link_facts(participant), expires_on=link_expiry(now, valid_days), secret_key=secret_key
    )
    base = public_url.rstrip("/")
    return PersonalLinks(page=f"{base}/u/{token}", unsubscribe=f"{base}/unsubscribe/{token}")


def participant_for_link(
    token: str,
    *,
    session: Session,
    secret_key: str,
    now: datetime,
    for_unsubscribe: bool = False,
) -> Participant:
    """The participant a link is for, or LinkRefused saying why not.

    1. The token must be shaped like one and name an existing participant.
    2. Its signature must match that participant's id, programme and email.
    3. An archived participant's link opens nothing.
    4. For the update page: not expired, and not opted out.
    """
    read = read_link_token(token)
    participant = session.get(Participant, read.participant_id) if read is not None else None
    if read is None or participant is None:
        raise LinkRefused(LinkProblem.INVALID)
    if not link_matches(read, link_facts(participant), secret_key):
        raise LinkRefused(LinkProblem.INVALID)
    if participant.archived_at is not None:
        raise LinkRefused(LinkProblem.CLOSED)
    if for_unsubscribe:
        return participant
    if link_expired(read, now):
        raise LinkRefused(LinkProblem.EXPIRED)
    if participant.state == ParticipantState.OPTED_OUT.value:
        raise LinkRefused(LinkProblem.CLOSED)
    return participant


def link_still_fresh(token: str, now: datetime) -> bool:
    """Whether a token (already checked) has not expired: undoing an opt-out needs that."""
    read = read_link_token(token)
    return read is not None and not link_expired(read, now)
