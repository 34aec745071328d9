"""Sending the outbox: claim due rows, compose, hand to SMTP, record the outcome.

The guarantee (see docs/design.md, "Sending exactly once"): a reminder's claim,
with its Message-ID, is committed before the SMTP transaction starts, and its
`sent` state right after the server accepts it. A sender killed at any point
leaves the row `planned` or `sending`; a `sending` row whose lease has expired
(measured on a later pass's `now`) is claimed again and re-sent with the same
Message-ID. The only duplicate window is between the server accepting DATA
and our commit of `sent`: a few milliseconds per message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from tracker.db.orm import Event, Participant, Programme, Reminder
from tracker.mail.outgoing import (
    Mailer,
    MailError,
    PermanentMailError,
    TemporaryMailError,
    UnsafeHeaderError,
)
from tracker.services.claiming import OutboxPolicy, claim_batch, due_query, release_claims
from tracker.services.composing import MailIdentity, compose_reminder
from tracker.services.digest import plan_digests
from tracker.services.pausing import resume_due_pauses
from tracker.services.planning import mark_for_planning, plan_due_reminders

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
    due: list[dict[str, Any]] = field(default_factory=list)  # dry run: what would be sent
    stopped_early: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "planned": self.planned,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            **({"due": self.due} if self.dry_run else {}),
            "stopped_early": self.stopped_early,
        }


def send_due(
    *,
    session_factory: sessionmaker[Session],
    mailer: Mailer,
    env: Environment,
    identity: MailIdentity,
    now: datetime,
    policy: OutboxPolicy | None = None,
    dry_run: bool = False,
    stop: threading.Event | None = None,
) -> SendReport:
    """One pass: plan what is due at `now`, then send every due outbox row.

    1. Plan (committed on its own, so a send failure never undoes planning).
    2. Claim a batch of due rows: planned and due, or sending with an
       expired lease. Each claim is a compare-and-set on the row's state
       (and SKIP LOCKED on PostgreSQL), so concurrent senders never share one.
    3. For each claimed row: compose, send, and commit its outcome at once.
    4. Repeat until nothing is due, or `stop` is set (the rows claimed but
       not yet sent are released for the next pass).
    """
    policy = policy or OutboxPolicy()
    report = SendReport(now=now, dry_run=dry_run)
    if dry_run:
        return _dry_run(session_factory, report, now)
    with session_factory.begin() as session:
        resume_due_pauses(session=session, now=now)
        report.planned = len(plan_due_reminders(session=session, now=now).planned)
        report.planned += plan_digests(session=session, now=now)
    with mailer:
        while not (stop is not None and stop.is_set()):
            claimed = claim_batch(session_factory, identity, now, policy)
            if not claimed:
                break
            for position, reminder_id in enumerate(claimed):
                if stop is not None and stop.is_set():
                    release_claims(session_factory, claimed[position:])
                    report.stopped_early = "stop requested"
                    return report
                outcome = _send_one(
                    session_factory, mailer, env, identity, reminder_id, now, policy, report
                )
                if outcome is _Outcome.CONNECTION_FAILED:
                    release_claims(session_factory, claimed[position + 1 :])
                    cause = report.retrying[-1]["error"] if report.retrying else "unavailable"
                    report.stopped_early = f"{cause}; the rest waits for a later pass"
                    return report
    return report


def _dry_run(
    session_factory: sessionmaker[Session], report: SendReport, now: datetime
) -> SendReport:
    with session_factory() as session:
        resume_due_pauses(session=session, now=now)
        report.planned = len(plan_due_reminders(session=session, now=now).planned)
        report.planned += plan_digests(session=session, now=now)
        for reminder in session.scalars(due_query(now)):
            report.due.append(_summary(reminder))
        session.rollback()
    return report


class _Outcome:
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    CONNECTION_FAILED = "connection_failed"


def _send_one(
    session_factory: sessionmaker[Session],
    mailer: Mailer,
    env: Environment,
    identity: MailIdentity,
    reminder_id: int,
    now: datetime,
    policy: OutboxPolicy,
    report: SendReport,
) -> str:
    with session_factory() as session:
        reminder = session.scalars(
            select(Reminder)
            .where(Reminder.id == reminder_id)
            .options(
                selectinload(Reminder.items),
                selectinload(Reminder.participant).selectinload(Participant.actions),
                selectinload(Reminder.participant)
                .selectinload(Participant.programme)
                .selectinload(Programme.coordinators),
                selectinload(Reminder.programme).selectinload(Programme.coordinators),
            )
        ).one()
        summary = _summary(reminder)
        try:
            message = compose_reminder(
                reminder, session=session, env=env, identity=identity, now=now
            )
        except UnsafeHeaderError as error:
            session.rollback()
            _finish(
                session_factory, reminder_id, now, state="failed", error=f"cannot compose: {error}"
            )
            report.failed.append({**summary, "error": f"cannot compose: {error}"})
            return _Outcome.FAILED
        except Exception as error:
            # A bug (a template error, say): retried with backoff so that a fix
            # lets it go out, and failed after the last attempt; never a stuck pass.
            log.exception("action=reminder.compose_failed reminder=%s", reminder_id)
            attempts = reminder.attempts
            session.rollback()
            problem = TemporaryMailError(f"cannot compose: {error}", connection_level=False)
            return _record_failure(
                session_factory,
                reminder_id,
                summary,
                attempts,
                problem,
                now,
                policy,
                report,
            )
        attempts = reminder.attempts
        session.rollback()
    try:
        mailer.send(message)
    except MailError as error:
        return _record_failure(
            session_factory, reminder_id, summary, attempts, error, now, policy, report
        )
    _finish(session_factory, reminder_id, now, state="sent")
    report.sent.append(summary)
    log.info(
        "action=reminder.sent reminder=%s to=%s kind=%s message_id=%s",
        reminder_id,
        summary["to"],
        summary["kind"],
        summary["message_id"],
    )
    return _Outcome.SENT


def _record_failure(
    session_factory: sessionmaker[Session],
    reminder_id: int,
    summary: dict[str, Any],
    attempts: int,
    error: MailError,
    now: datetime,
    policy: OutboxPolicy,
    report: SendReport,
) -> str:
    text = str(error)
    if isinstance(error, PermanentMailError) and not error.connection_level:
        _finish(session_factory, reminder_id, now, state="failed", error=text, hard_failure=policy)
        report.failed.append({**summary, "error": text})
        log.warning("action=reminder.failed reminder=%s error=%s", reminder_id, text)
        return _Outcome.FAILED
    if attempts >= policy.max_attempts:
        _finish(
            session_factory,
            reminder_id,
            now,
            state="failed",
            error=f"gave up after {attempts} attempts: {text}",
        )
        report.failed.append({**summary, "error": text})
        return _Outcome.FAILED
    retry_at = now + policy.retry_delay(attempts)
    with session_factory.begin() as session:
        session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, Reminder.state == "sending")
            .values(
                state="planned", next_attempt_at=retry_at, lease_expires_at=None, last_error=text
            )
        )
        session.add(Event(at=now, action="reminder.retry", reminder_id=reminder_id, detail=text))
    report.retrying.append({**summary, "error": text, "retry_at": retry_at.isoformat()})
    log.warning(
        "action=reminder.retry reminder=%s retry_at=%s error=%s",
        reminder_id,
        retry_at.isoformat(),
        text,
    )
    return _Outcome.CONNECTION_FAILED if error.connection_level else _Outcome.RETRY


def _finish(
    session_factory: sessionmaker[Session],
    reminder_id: int,
    now: datetime,
    *,
    state: str,
    error: str | None = None,
    hard_failure: OutboxPolicy | None = None,
) -> None:
    """Record a final outcome and let the planner look at the participant again."""
    with session_factory.begin() as session:
        reminder = session.get(Reminder, reminder_id)
        assert reminder is not None
        if reminder.state != "sending":
            log.warning(
                "action=reminder.outcome_lost reminder=%s state=%s", reminder_id, reminder.state
            )
            return
        reminder.state = state
        reminder.lease_expires_at = None
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
                reminder_id=reminder_id,
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


def _summary(reminder: Reminder) -> dict[str, Any]:
    participant = reminder.participant
    programme = reminder.programme or reminder.about.programme
    to = (
        [c.email for c in programme.coordinators]
        if reminder.audience == "coordinators"
        else [reminder.about.email]
    )
    return {
        "reminder_id": reminder.id,
        "kind": reminder.kind,
        "to": to,
        "participant": participant.email if participant else None,
        "scheduled_at": reminder.scheduled_at.isoformat(),
        "items": [item.occurrence_key for item in reminder.items],
        "message_id": reminder.message_id,
    }


MailerFactory = Callable[[], Mailer]
