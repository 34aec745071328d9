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
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from tracker.db.orm import Participant, Programme, Reminder
from tracker.mail.outgoing import (
    Mailer,
    MailError,
    SmtpConfigurationError,
    TemporaryMailError,
    UnsafeHeaderError,
)
from tracker.services.claiming import (
    Claim,
    OutboxPolicy,
    PassClock,
    claim_batch,
    due_query,
    release_claims,
    renew_claim,
)
from tracker.services.composing import MailIdentity, compose_reminder
from tracker.services.digest import plan_digests
from tracker.services.pausing import resume_due_pauses
from tracker.services.planning import plan_due_reminders, why_no_longer_wanted
from tracker.services.send_outcomes import (
    Outcome,
    SendReport,
    record_cancelled,
    record_failure,
    record_sent,
    record_unsendable,
)

__all__ = ["MailerFactory", "ProgressDisplay", "SendReport", "send_due"]

log = logging.getLogger(__name__)

Advance = Callable[[int], None]
ProgressDisplay = Callable[[int], AbstractContextManager[Advance]]
"""Given how many messages are due, a context that yields `advance(n)` (see cli/progress)."""


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
    monotonic: Callable[[], float] = time.monotonic,
    progress: ProgressDisplay | None = None,
) -> SendReport:
    """One pass: plan what is due at `now`, then send every due outbox row.

    1. Plan (committed on its own, so a send failure never undoes planning).
    2. Claim a batch of due rows: planned and due, or sending with an expired
       lease; no more than the send rate gets through in half a lease. Each
       claim is a compare-and-set on the row's state (and SKIP LOCKED on
       PostgreSQL), so concurrent senders never share one. Leases are measured
       on the pass's clock: `now` plus the time elapsed since the pass began.
    3. For each claimed row: cancel it if the facts it was planned on have
       changed so that it is no longer wanted (`tracker.core.obsolete`: the
       participant answered while it waited to be retried, say); compose;
       renew the claim if it is close to expiry (a claim lost to another
       sender is not sent); send; commit the outcome.
    4. Repeat until nothing is due. Stop early, giving back the claims not yet
       attempted, when `stop` is set, when the server or connection fails, or
       at a configuration error (then the row in hand is given back too, and
       no attempt is counted: the settings, not the messages, are wrong).
    """
    policy = policy or OutboxPolicy()
    report = SendReport(now=now, dry_run=dry_run)
    if dry_run:
        return _dry_run(session_factory, report, now)
    with session_factory.begin() as session:
        resume_due_pauses(session=session, now=now)
        report.planned = len(plan_due_reminders(session=session, now=now).planned)
        report.planned += plan_digests(session=session, now=now)
    clock = PassClock(start=now, monotonic=monotonic)
    display = progress(_count_due(session_factory, now)) if progress else nullcontext(_ignore)
    with mailer, display as advance:
        while not (stop is not None and stop.is_set()):
            claimed = claim_batch(session_factory, identity, clock, policy)
            if not claimed:
                break
            for position, claim in enumerate(claimed):
                if stop is not None and stop.is_set():
                    release_claims(session_factory, claimed[position:])
                    report.stopped_early = "stop requested"
                    return report
                try:
                    outcome = _send_one(
                        session_factory, mailer, env, identity, claim, clock, policy, report
                    )
                except SmtpConfigurationError as error:
                    release_claims(session_factory, claimed[position:])
                    report.configuration_error = report.stopped_early = str(error)
                    # The caller says it (one line from `send-due`, an error in `run`'s log).
                    log.info("action=send.stopped reason=configuration error=%s", error)
                    return report
                advance(1)
                if outcome is Outcome.CONNECTION_FAILED:
                    release_claims(session_factory, claimed[position + 1 :])
                    cause = report.retrying[-1]["error"] if report.retrying else "unavailable"
                    report.stopped_early = f"{cause}; the rest waits for a later pass"
                    return report
    return report


def _ignore(_n: int = 1) -> None:
    return None


def _count_due(session_factory: sessionmaker[Session], now: datetime) -> int:
    with session_factory() as session:
        due = due_query(now).with_only_columns(Reminder.id).subquery()
        return int(session.scalar(select(func.count()).select_from(due)) or 0)


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


def _send_one(
    session_factory: sessionmaker[Session],
    mailer: Mailer,
    env: Environment,
    identity: MailIdentity,
    claim: Claim,
    clock: PassClock,
    policy: OutboxPolicy,
    report: SendReport,
) -> Outcome | None:
    """Compose and send one claimed row; None when the claim was lost before sending.

    Raises SmtpConfigurationError, for the pass to stop.
    """
    with session_factory() as session:
        reminder = session.scalars(
            select(Reminder)
            .where(Reminder.id == claim.reminder_id)
            .options(
                selectinload(Reminder.items),
                selectinload(Reminder.participant).selectinload(Participant.actions),
                selectinload(Reminder.participant)
                .selectinload(Participant.programme)
                .selectinload(Programme.coordinators),
                selectinload(Reminder.programme).selectinload(Programme.coordinators),
            )
        ).one()
        if reminder.state != "sending" or reminder.attempts != claim.attempts:
            # Our lease ran out and another sender holds the row now.
            _lost(claim, report)
            return None
        summary = _summary(reminder)
        obsolete = why_no_longer_wanted(reminder, session=session)
        if obsolete is not None:
            # Planned on facts that have changed since (a reply while it was retrying).
            session.rollback()
            record_cancelled(session_factory, claim, summary, obsolete, clock, report)
            return None
        lease_ends = reminder.lease_expires_at
        try:
            message = compose_reminder(
                reminder, session=session, env=env, identity=identity, now=clock.now()
            )
        except UnsafeHeaderError as error:
            # Data that cannot make a safe message will not change by waiting.
            session.rollback()
            return record_unsendable(
                session_factory, claim, summary, f"cannot compose: {error}", clock, report
            )
        except Exception as error:
            # A bug (a template error, say): retried with backoff so that a fix
            # lets it go out, and failed after the last attempt; never a stuck pass.
            log.exception("action=reminder.compose_failed reminder=%s", claim.reminder_id)
            session.rollback()
            problem = TemporaryMailError(f"cannot compose: {error}", connection_level=False)
            return record_failure(session_factory, claim, summary, problem, clock, policy, report)
        session.rollback()
    # The claim must outlive the SMTP transaction: renew it when it is close to
    # expiry, and send nothing if it went to another sender meanwhile.
    near_expiry = lease_ends is None or lease_ends - clock.now() < policy.renew_margin
    if near_expiry and not renew_claim(session_factory, claim, clock, policy):
        _lost(claim, report)
        return None
    try:
        mailer.send(message)
    except SmtpConfigurationError:
        raise
    except MailError as error:
        return record_failure(session_factory, claim, summary, error, clock, policy, report)
    record_sent(session_factory, claim, clock)
    report.sent.append(summary)
    log.info(
        "action=reminder.sent reminder=%s to=%s kind=%s message_id=%s",
        claim.reminder_id,
        summary["to"],
        summary["kind"],
        summary["message_id"],
    )
    return Outcome.SENT


def _lost(claim: Claim, report: SendReport) -> None:
    report.claims_lost += 1
    log.warning("action=reminder.claim_lost reminder=%s", claim.reminder_id)


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
