"""Applying a trusted reply: its lines become updates of the participant's actions.

A reply is applied once: the same reply sent again under a new Message-ID
(people press send twice, clients retry) is recognised and recorded as a
duplicate instead. Refs that are none of the participant's actions are kept
on the message for the acknowledgement to name; questions are flagged for the
coordinators. Updates take the time the participant said them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.core.model import InboundState, ParticipantState, UpdateSource
from tracker.db.orm import Action, Event, InboundMessage, Participant, Reminder
from tracker.inbound.attachments import attached_files
from tracker.inbound.parse import ActionUpdate, ParsedMessage
from tracker.services.acknowledging import queue_acknowledgement
from tracker.services.attachments import AttachmentLimits, KeptFiles, keep_files
from tracker.services.recording import NewUpdate, record_updates, update_summary

_UNSUBSCRIBE = re.compile(
    r"^\s*(unsubscribe|stop|退订|取消订阅|退訂)\s*[.!。！]?\s*$", re.IGNORECASE
)
# A reply resent within this long of the first, by the same person, to the same
# reminder, with the same text, is the same reply.
DUPLICATE_WINDOW = timedelta(days=1)


@dataclass(slots=True)
class ReplyOutcome:
    detail: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    duplicate_of: int | None = None  # set when nothing was recorded because it repeats that one


def said_at(
    date: datetime | None, *, received_at: datetime, not_before: datetime | None
) -> datetime:
    """When the participant said it: the Date header, never after it was received, and
    not before the reminder it answers was sent (a wrong clock cannot reorder history).

    A message assigned by a coordinator days later therefore still takes its
    place in the history by when it was written, so it never overrides newer
    progress.
    """
    moment = received_at if date is None else min(date, received_at)
    if not_before is not None and not_before <= received_at:
        moment = max(moment, not_before)
    return moment


def reply_digest(reply_text: str) -> str:
    """What identifies a reply's text: SHA-256 of it with whitespace folded."""
    return hashlib.sha256(" ".join(reply_text.split()).encode("utf-8")).hexdigest()


def apply_reply(
    inbound: InboundMessage,
    parsed: ParsedMessage,
    participant: Participant,
    reminder: Reminder | None,
    *,
    session: Session,
    now: datetime,
    at: datetime,
    attachment_limits: AttachmentLimits | None = None,
) -> ReplyOutcome:
    """Record what a trusted reply, said at `at`, says about `participant`'s actions.

    1. "unsubscribe" / "退订": the participant is opted out, planned mail cancelled.
    2. The same reply again (see `repeated_reply`): nothing recorded.
    3. Each update of a known action, its general note, and each question
       not already part of an update, are recorded; the refs that name no
       action are kept on the message.
    4. The files attached to it are kept (within `attachment_limits`), or
       noted as too large.
    5. The reminder is answered; an acknowledgement is queued when there is
       anything to acknowledge (updates, files, or refs it could not find).
    """
    inbound.participant_id = participant.id
    inbound.reply_digest = reply_digest(parsed.reply_text)
    if _UNSUBSCRIBE.match(parsed.subject) or _UNSUBSCRIBE.match(parsed.reply_text):
        _opt_out(participant, inbound, session=session, now=now)
        return ReplyOutcome(detail="opted out")
    original = repeated_reply(inbound, participant, reminder, session=session)
    if original is not None:
        return ReplyOutcome(detail="", duplicate_of=original)
    actions = {a.ref: a for a in participant.actions if a.archived_at is None}
    known = [item for item in parsed.updates if item.ref in actions]
    unknown = list(dict.fromkeys([*parsed.unknown_refs, *(u.ref for u in parsed.updates)]))
    unknown = [ref for ref in unknown if ref not in actions]
    inbound.unknown_refs = unknown or None
    new = _new_updates(known, actions, parsed.general_note, parsed.questions)
    rows = record_updates(
        participant,
        new,
        session=session,
        at=at,
        source=UpdateSource.EMAIL,
        now=now,
        reminder_id=reminder.id if reminder else None,
        inbound_message_id=inbound.id,
    )
    files = _keep_attached(inbound, participant, attachment_limits, session=session, now=now)
    if reminder is not None and reminder.answered_at is None:
        reminder.answered_at = at
    if participant.programme.acknowledge_replies and (
        rows or unknown or files.kept or files.not_kept
    ):
        queue_acknowledgement(participant, inbound, session=session, now=now)
    detail = _detail(len(rows), unknown, sum(1 for r in rows if r.question), files)
    session.add(
        Event(
            at=now,
            action="inbound.reply",
            participant_id=participant.id,
            reminder_id=reminder.id if reminder else None,
            inbound_message_id=inbound.id,
            detail=detail,
        )
    )
    return ReplyOutcome(detail=detail, updates=[update_summary(r) for r in rows])


def repeated_reply(
    inbound: InboundMessage,
    participant: Participant,
    reminder: Reminder | None,
    *,
    session: Session,
) -> int | None:
    """The message `inbound` repeats, if it is the same reply sent again; else None.

    Same participant, same reminder, same reply text, received within
    `DUPLICATE_WINDOW` after it, and nothing else from them recorded in
    between (so "done", then "in progress", then "done" again is three
    answers, not two). The participant's row is locked first, so two copies
    processed at once on PostgreSQL cannot both be the original.
    """
    if reminder is None or inbound.reply_digest is None:
        return None
    session.execute(
        select(Participant.id).where(Participant.id == participant.id).with_for_update()
    )
    latest = (
        session.execute(
            select(InboundMessage.id, InboundMessage.reply_digest, InboundMessage.reminder_id)
            .where(
                InboundMessage.participant_id == participant.id,
                InboundMessage.id != inbound.id,
                InboundMessage.state == InboundState.PROCESSED.value,
                InboundMessage.reply_digest.is_not(None),
                InboundMessage.received_at >= inbound.received_at - DUPLICATE_WINDOW,
                InboundMessage.received_at <= inbound.received_at,
            )
            .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
            .limit(1)
        )
        .tuples()
        .first()
    )
    if latest is None:
        return None
    latest_id, digest, reminder_id = latest
    return latest_id if (digest, reminder_id) == (inbound.reply_digest, reminder.id) else None


def _new_updates(
    known: Sequence[ActionUpdate],
    actions: dict[str, Action],
    general_note: str,
    questions: Sequence[str],
) -> list[NewUpdate]:
    """The updates to record: each action line, the general note, then each question.

    A question asked on an action's line flags that update; one asked on a
    line of its own becomes a general update of its own (and leaves the
    general note), so the coordinators see each question once.
    """
    asked = list(dict.fromkeys(q.strip() for q in questions if q.strip()))
    new: list[NewUpdate] = []
    for item in known:
        question = _question_on_line(item.note, asked)
        if question is not None:
            asked.remove(question)
        new.append(
            NewUpdate(
                action=actions[item.ref],
                status=item.status,
                percent=item.percent,
                note=item.note,
                question=question is not None,
            )
        )
    on_their_own = asked
    lines = [line for line in general_note.split("\n") if line.strip() not in on_their_own]
    general = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if general:
        new.append(NewUpdate(action=None, status=None, percent=None, note=general))
    new += [
        NewUpdate(action=None, status=None, percent=None, note=q, question=True)
        for q in on_their_own
    ]
    return new


def _question_on_line(note: str, questions: Sequence[str]) -> str | None:
    """The question an action's note asks (its line is among the questions), if any."""
    if not note.rstrip().endswith(("?", "？")):
        return None
    return next((q for q in questions if note in q or q in note), None)


def _keep_attached(
    inbound: InboundMessage,
    participant: Participant,
    limits: AttachmentLimits | None,
    *,
    session: Session,
    now: datetime,
) -> KeptFiles:
    """Keep the files attached to the reply (about no one action: a reply may name several)."""
    files = [(file, None) for file in attached_files(inbound.raw)]
    return keep_files(
        participant,
        files,
        limits=limits or AttachmentLimits(),
        session=session,
        now=now,
        inbound_message_id=inbound.id,
    )


def _detail(recorded: int, unknown: Sequence[str], questions: int, files: KeptFiles) -> str:
    parts = [f"{recorded} update(s) recorded"]
    if files.kept:
        parts.append(f"{len(files.kept)} file(s) kept")
    if files.not_kept:
        parts.append(f"{len(files.not_kept)} file(s) too large, not kept")
    if unknown:
        parts.append(f"no action {', '.join(unknown)} for this participant")
    if questions:
        parts.append(f"{questions} question(s) for the coordinators")
    return "; ".join(parts)


def _opt_out(
    participant: Participant, inbound: InboundMessage, *, session: Session, now: datetime
) -> None:
    participant.state = ParticipantState.OPTED_OUT.value
    session.execute(
        update(Reminder)
        .where(Reminder.participant_id == participant.id, Reminder.state == "planned")
        .values(state="cancelled")
    )
    session.add(
        Event(
            at=now,
            action="participant.opted_out",
            participant_id=participant.id,
            inbound_message_id=inbound.id,
            detail="asked to unsubscribe by email",
        )
    )
