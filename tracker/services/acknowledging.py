"""Acknowledgements: a short reply echoing what a participant's email or page recorded.

It goes through the outbox like any reminder (so it is retried, and sent once),
keyed by the inbound message it answers: reprocessing never sends a second one.
It names the refs the reply gave that are none of the participant's actions
(kept on the inbound message, since it is rendered later, at send time) and
says the participant's questions went to the programme team. Replying to it
works like replying to a reminder (it carries its own token and thread), so a
participant can correct a misread line. An answer given on the personal page
is acknowledged the same way, keyed by that submit; both name the files kept,
and those too large to keep.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.model import ReminderKind
from tracker.db.orm import InboundMessage, Participant, Reminder, Update
from tracker.mail.contexts import AcknowledgementContext
from tracker.services.attachments import files_of
from tracker.services.presenting import recorded_update

_KEY = re.compile(r"ack:m(\d+)")
_WEB_KEY = re.compile(r"ack:w(\d+)")


def acknowledgement_key(inbound_id: int) -> str:
    return f"ack:m{inbound_id}"


def web_acknowledgement_key(submission_id: int) -> str:
    return f"ack:w{submission_id}"


def queue_acknowledgement(
    participant: Participant, inbound: InboundMessage, *, session: Session, now: datetime
) -> Reminder | None:
    """Put an acknowledgement of `inbound` in the outbox, unless one is there already."""
    return _queue(participant, acknowledgement_key(inbound.id), session=session, now=now)


def queue_web_acknowledgement(
    participant: Participant, submission_id: int, *, session: Session, now: datetime
) -> Reminder | None:
    """Put an acknowledgement of a personal page submit in the outbox."""
    return _queue(participant, web_acknowledgement_key(submission_id), session=session, now=now)


def _queue(
    participant: Participant, key: str, *, session: Session, now: datetime
) -> Reminder | None:
    if session.scalar(select(Reminder.id).where(Reminder.occurrence_key == key)) is not None:
        return None
    reminder = Reminder(
        occurrence_key=key,
        participant_id=participant.id,
        audience="participant",
        kind=ReminderKind.ACKNOWLEDGEMENT.value,
        local_date=now.astimezone(ZoneInfo(participant.effective_timezone)).date(),
        scheduled_at=now,
        next_attempt_at=now,
        state="planned",
        attempts=0,
        created_at=now,
    )
    session.add(reminder)
    session.flush()
    return reminder


def acknowledged_inbound_id(reminder: Reminder) -> int | None:
    match = _KEY.fullmatch(reminder.occurrence_key)
    return int(match.group(1)) if match else None


def acknowledged_submission_id(reminder: Reminder) -> int | None:
    match = _WEB_KEY.fullmatch(reminder.occurrence_key)
    return int(match.group(1)) if match else None


def acknowledgement_context(
    reminder: Reminder,
    *,
    session: Session,
    opt_out_address: str,
    update_url: str | None = None,
) -> AcknowledgementContext:
    """What the acknowledgement of `reminder`'s inbound message shows."""
    participant = reminder.about
    inbound_id = acknowledged_inbound_id(reminder)
    submission_id = acknowledged_submission_id(reminder)
    source = (
        Update.inbound_message_id == inbound_id
        if inbound_id is not None
        else Update.web_submission_id == submission_id
    )
    updates = list(session.scalars(select(Update).where(source).order_by(Update.id)))
    files = files_of(
        session=session, inbound_message_id=inbound_id, web_submission_id=submission_id
    )
    inbound = session.get(InboundMessage, inbound_id) if inbound_id is not None else None
    return AcknowledgementContext(
        language=participant.effective_language,
        participant_name=participant.name,
        programme_name=participant.programme.name,
        updates=tuple(recorded_update(u) for u in updates),
        unknown_refs=tuple(inbound.unknown_refs or ()) if inbound is not None else (),
        known_refs=tuple(a.ref for a in participant.actions if a.archived_at is None),
        coordinator_names=tuple(c.name for c in participant.programme.coordinators),
        opt_out_url_or_address=opt_out_address,
        files=tuple(f.filename for f in files if f.stored),
        files_not_kept=tuple(f.filename for f in files if not f.stored),
        update_url=update_url,
    )
