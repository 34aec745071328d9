"""Recording what became of a send: sent, retry later, or failed for good.

Each outcome is its own short transaction, committed right after the SMTP
server answered, so a crash loses at most the one message in flight (see
docs/design.md, "Sending exactly once").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tracker.db.orm import Event, Participant, Reminder
from tracker.mail.outgoing import MailError, PermanentMailError
from tracker.services.claiming import Claim, OutboxPolicy, PassClock
from tracker.services.planning import REPLAN, mark_for_planning

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SendReport:
    """What one pass did."""

    now: datetime
    dry_run: bool
    planned: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    retrying: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    # Planned, but no longer wanted when their moment came (see tracker.core.obsolete).
    cancelled: list[dict[str, Any]] = field(default_factory=list)
    due: list[dict[str, Any]] = field(default_factory=list)  # dry run: what would be sent
    stopped_early: str | None = None
    # A settings mistake stopped the pass (one line naming the setting); nothing
    # was counted against the messages, which wait for the next pass.
    configuration_error: str | None = None
    claims_lost: int = 0  # claims that expired and went to another sender before sending

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "planned": self.planned,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "cancelled": self.cancelled,
            **({"due": self.due} if self.dry_run else {}),
            "stopped_early": self.stopped_early,
            "configuration_error": self.configuration_error,
        }


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    CONNECTION_FAILED = "connection_failed"  # about the server: the rest of the batch waits


_reminders = cast(Table, Reminder.__table__)
_events = cast(Table, Event.__table__)
_participants = cast(Table, Participant.__table__)

# The statements of `record_sent`, built once on the tables: a pass runs them
# for every message, and building and caching an ORM statement each time cost
# more CPU than SQLite takes to run all three.
_MARK_SENT = (
    update(_reminders)
    .where(_reminders.c.id == bindparam("reminder_id"), _reminders.c.state == "sending")
    .values(state="sent", lease_expires_at=None, last_attempt_at=bindparam("now"),
            last_error=None, sent_at=bindparam("now"))
    .returning(_reminders.c.participant_id, _reminders.c.programme_id, _reminders.c.message_id)
)  # fmt: skip
_SENT_EVENT = insert(_events).values(action="reminder.sent")
_MARK_FOR_PLANNING = (
    update(_participants)
    .where(_participants.c.id == bindparam("participant_id"), _participants.c.archived_at.is_(None))
    .values(next_due_at=REPLAN)
)


def record_sent(session_factory: sessionmaker[Session], claim: Claim, clock: PassClock) -> None:
    """The server accepted the message: `sent`, now, whoever holds the claim now.

    Three Core statements in one short transaction (the hot path of a pass):
    the row, its event, and the participant marked for planning (escalation
    counts sent reminders).
    """
    with session_factory.begin() as session:
        now = clock.now()
        done = session.execute(
            _MARK_SENT, {"reminder_id": claim.reminder_id, "now": now}
        ).one_or_none()
        if done is None:
            state = session.scalar(select(Reminder.state).where(Reminder.id == claim.reminder_id))
            log.warning(
                "action=reminder.outcome_lost reminder=%s state=%s outcome=sent",
                claim.reminder_id,
                state,
            )
            return
        participant_id, programme_id, message_id = done
        session.execute(
            _SENT_EVENT,
            {
                "at": now,
                "participant_id": participant_id,
                "programme_id": programme_id,
                "reminder_id": claim.reminder_id,
                "detail": message_id or "",
            },
        )
        if participant_id is not None:  # not a digest
            session.execute(_MARK_FOR_PLANNING, {"participant_id": participant_id})


def record_unsendable(
    session_factory: sessionmaker[Session],
    claim: Claim,
    summary: dict[str, Any],
    error: str,
    clock: PassClock,
    report: SendReport,
) -> Outcome:
    """A message that cannot be built from its data: failed at once, never retried
    (and not held against the address)."""
    _finish(session_factory, claim, clock, state="failed", error=error)
    report.failed.append({**summary, "error": error})
    log.warning("action=reminder.failed reminder=%s error=%s", claim.reminder_id, error)
    return Outcome.FAILED


def record_cancelled(
    session_factory: sessionmaker[Session],
    claim: Claim,
    summary: dict[str, Any],
    reason: str,
    clock: PassClock,
    report: SendReport,
) -> None:
    """A message no longer wanted when its moment came: `cancelled`, with why, never sent."""
    _finish(session_factory, claim, clock, state="cancelled", error=f"not sent: {reason}")
    report.cancelled.append({**summary, "reason": reason})
    log.info("action=reminder.cancelled reminder=%s reason=%s", claim.reminder_id, reason)


def record_failure(
    session_factory: sessionmaker[Session],
    claim: Claim,
    summary: dict[str, Any],
    error: MailError,
    clock: PassClock,
    policy: OutboxPolicy,
    report: SendReport,
) -> Outcome:
    """A refused or failed send: failed for good (a 5xx, or the last attempt), else a
    retry with backoff. Adds the row to `report.failed` or `report.retrying`."""
    text = str(error)
    if isinstance(error, PermanentMailError) and not error.connection_level:
        _finish(session_factory, claim, clock, state="failed", error=text, hard_failure=policy)
        report.failed.append({**summary, "error": text})
        log.warning("action=reminder.failed reminder=%s error=%s", claim.reminder_id, text)
        return Outcome.FAILED
    if claim.attempts >= policy.max_attempts:
        given_up = f"gave up after {claim.attempts} attempts: {text}"
        _finish(session_factory, claim, clock, state="failed", error=given_up)
        report.failed.append({**summary, "error": given_up})
        log.warning("action=reminder.failed reminder=%s error=%s", claim.reminder_id, given_up)
        return Outcome.FAILED
    now = clock.now()
    retry_at = now + policy.retry_delay(claim.attempts)
    with session_factory.begin() as session:
        session.execute(
            update(Reminder)
            .where(
                Reminder.id == claim.reminder_id,
                Reminder.state == "sending",
                Reminder.attempts == claim.attempts,
            )
            .values(
                state="planned",
                next_attempt_at=retry_at,
                lease_expires_at=None,
                last_attempt_at=now,
                last_error=text,
            )
            .execution_options(synchronize_session=False)
        )
        session.add(
            Event(at=now, action="reminder.retry", reminder_id=claim.reminder_id, detail=text)
        )
    report.retrying.append({**summary, "error": text, "retry_at": retry_at.isoformat()})
    log.warning(
        "action=reminder.retry reminder=%s retry_at=%s error=%s",
        claim.reminder_id,
        retry_at.isoformat(),
        text,
    )
    return Outcome.CONNECTION_FAILED if error.connection_level else Outcome.RETRY


def _finish(
    session_factory: sessionmaker[Session],
    claim: Claim,
    clock: PassClock,
    *,
    state: str,
    error: str | None = None,
    hard_failure: OutboxPolicy | None = None,
) -> None:
    """Record a final outcome and let the planner look at the participant again."""
    with session_factory.begin() as session:
        now = clock.now()
        reminder = session.get(Reminder, claim.reminder_id)
        assert reminder is not None
        # A message the server accepted is `sent`, whoever holds the claim now; a
        # failure is recorded only by the claim that met it.
        ours = reminder.state == "sending" and (
            state == "sent" or reminder.attempts == claim.attempts
        )
        if not ours:
            log.warning(
                "action=reminder.outcome_lost reminder=%s state=%s outcome=%s",
                claim.reminder_id,
                reminder.state,
                state,
            )
            return
        reminder.state = state
        reminder.lease_expires_at = None
        reminder.last_attempt_at = now
        reminder.last_error = error
        if state == "sent":
            reminder.sent_at = now
        participant = reminder.participant
        session.add(
            Event(
                at=now,
                action=f"reminder.{state}",
                participant_id=participant.id if participant else None,
                programme_id=reminder.programme_id,
                reminder_id=claim.reminder_id,
                detail=error or reminder.message_id or "",
            )
        )
        if participant is None:  # a digest
            return
        # A send changes what the planner knows (escalation counts sent reminders).
        mark_for_planning(participant)
        if hard_failure is not None and reminder.audience == "participant":
            participant.hard_bounces += 1
            if (
                participant.hard_bounces >= hard_failure.hard_failures_until_bouncing
                and participant.state == "active"
            ):
                participant.state = "bouncing"
                session.add(
                    Event(
                        at=now,
                        action="participant.bouncing",
                        participant_id=participant.id,
                        detail=f"{participant.hard_bounces} permanent delivery failures",
                    )
                )
