"""Applying a trusted reply: its lines become updates of the participant's actions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from tracker.core.model import ParticipantState, UpdateSource
from tracker.db.orm import Event, InboundMessage, Participant, Reminder
from tracker.inbound.parse import ParsedMessage, parse_message
from tracker.services.acknowledging import queue_acknowledgement
from tracker.services.recording import NewUpdate, record_updates

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
_UNSUBSCRIBE = re.compile(
    r"^\s*(unsubscribe|stop|退订|取消订阅|退訂)\s*[.!。！]?\s*$", re.IGNORECASE
)


@dataclass(slots=True)
class ReplyOutcome:
    detail: str
    updates: list[dict[str, Any]] = field(default_factory=list)


def apply_reply(
    inbound: InboundMessage,
    parsed: ParsedMessage,
    participant: Participant,
    reminder: Reminder | None,
    *,
    session: Session,
    now: datetime,
) -> ReplyOutcome:
    """Record what a trusted reply says about `participant`'s actions."""
    inbound.participant_id = participant.id
    if _UNSUBSCRIBE.match(parsed.subject) or _UNSUBSCRIBE.match(parsed.reply_text):
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
        return ReplyOutcome(detail="opted out")
    actions = {a.ref: a for a in participant.actions if a.archived_at is None}
    # Read again knowing this participant's refs (like "A1" or "2.1").
    parsed = parse_message(inbound.raw, known_refs=list(actions), max_bytes=MAX_MESSAGE_BYTES)
    new: list[NewUpdate] = []
    unknown_lines: list[str] = []
    for item in parsed.updates:
        action = actions.get(item.ref)
        if action is None:
            unknown_lines.append(f"{item.ref}: {item.note}".strip())
            continue
        new.append(
            NewUpdate(action=action, status=item.status, percent=item.percent, note=item.note)
        )
    general = "\n".join(line for line in [*unknown_lines, parsed.general_note] if line).strip()
    if general:
        new.append(NewUpdate(action=None, status=None, percent=None, note=general))
    rows = record_updates(
        participant,
        new,
        session=session,
        at=now,
        source=UpdateSource.EMAIL,
        now=now,
        reminder_id=reminder.id if reminder else None,
        inbound_message_id=inbound.id,
    )
    if reminder is not None and reminder.answered_at is None:
        reminder.answered_at = now
    if participant.programme.acknowledge_replies and rows:
        queue_acknowledgement(participant, inbound, session=session, now=now)
    session.add(
        Event(
            at=now,
            action="inbound.reply",
            participant_id=participant.id,
            reminder_id=reminder.id if reminder else None,
            inbound_message_id=inbound.id,
            detail=f"{len(rows)} update(s)",
        )
    )
    return ReplyOutcome(
        detail=f"{len(rows)} update(s) recorded",
        updates=[
            {
                "ref": r.action.ref if r.action else None,
                "status": r.status,
                "percent": r.percent,
                "note": r.note,
            }
            for r in rows
        ],
    )
