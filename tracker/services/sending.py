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
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from tracker.db.orm import Participant, Programme, Reminder
from tracker.mail.outgoing import (
    Mailer,
    MailError,
    OutgoingMail,
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
from tracker.services.presenting import preload_last_notes
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
    more_mailers: Sequence[Mailer] = (),
) -> SendReport:
    """One pass: plan what is due at `now`, then send every due outbox row.

    1. Plan (committed on its own, so a send failure never undoes planning).
    2. Claim a batch of due rows: planned and due, or sending with an expired
       lease; no more than the send rate gets through in half a lease. Each
       claim is a compare-and-set on the row's state (and SKIP LOCKED on
       PostgreSQL), so concurrent senders never share one. Leases are measured
       on the pass's clock: `now` plus the time elapsed since the pass began.
    3. Compose the batch (its rows read in a constant number of queries),
       cancelling each row whose facts have changed so that it is no longer
       wanted (`tracker.core.obsolete`: the participant answered while it
       waited to be retried, say); then for each row: renew the claim if it
       is close to expiry (a claim lost to another sender is not sent); send;
       commit the outcome. With `more_mailers`, each mailer is a connection
       sending in its own thread (`_Lanes`); every message keeps the same
       guarantee.
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
    with ExitStack() as stack, display as advance:
        mailers = [stack.enter_context(m) for m in (mailer, *more_mailers)]
        while not (stop is not None and stop.is_set()):
            claimed = claim_batch(session_factory, identity, clock, policy)
            if not claimed:
                break
            prepared = _prepare_batch(session_factory, env, identity, claimed, clock)
            lanes = _Lanes(session_factory, clock, policy, report, stop, advance, prepared)
            if not lanes.run(mailers):
                break
    return report


class _Lanes:
    """Sends one composed batch over one or more connections (a lane each).

    Each lane takes the next message from the batch, sends it and records the
    outcome, exactly as a single connection would; with several mailers the
    lanes run in threads, so one lane's SMTP answers and commits overlap
    another's work. A lane that meets a stop request, a configuration error or
    a failed connection halts every lane; what no lane took is given back.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: PassClock,
        policy: OutboxPolicy,
        report: SendReport,
        stop: threading.Event | None,
        advance: Advance,
        prepared: list[_Prepared],
    ) -> None:
        self._factory, self._clock, self._policy = session_factory, clock, policy
        self._report, self._stop, self._advance = report, stop, advance
        self._pending = deque(prepared)
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._crash: BaseException | None = None

    def run(self, mailers: list[Mailer]) -> bool:
        """Send the batch; False when the pass must stop here."""
        if len(mailers) == 1:
            self._guarded(mailers[0])
        else:
            threads = [
                threading.Thread(target=self._guarded, args=(m,), name=f"tracker-smtp-{n}")
                for n, m in enumerate(mailers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if self._pending:
            try:
                release_claims(self._factory, [item.claim for item in self._pending])
            except Exception as error:
                if self._crash is None:
                    raise
                # The crash is what the caller reports, in one line (a database
                # gone, say); these claims expire with their lease.
                log.debug("action=send.release_failed error=%s", error)
        if self._crash is not None:
            raise self._crash
        return not self._halt.is_set()

    def _guarded(self, mailer: Mailer) -> None:
        try:
            self._lane(mailer)
        except BaseException as error:  # a bug: the pass stops, as with one connection
            self._crash = error
            self._halt.set()

    def _lane(self, mailer: Mailer) -> None:
        report = self._report
        while not self._halt.is_set():
            if self._stop is not None and self._stop.is_set():
                report.stopped_early = report.stopped_early or "stop requested"
                self._halt.set()
                return
            try:
                item = self._pending.popleft()
            except IndexError:
                return
            try:
                outcome = _send_one(self._factory, mailer, item, self._clock, self._policy, report)
            except SmtpConfigurationError as error:
                self._pending.appendleft(item)  # given back with the rest
                report.configuration_error = report.stopped_early = str(error)
                # The caller says it (one line from `send-due`, an error in `run`'s log).
                log.info("action=send.stopped reason=configuration error=%s", error)
                self._halt.set()
                return
            with self._lock:
                self._advance(1)
            if outcome is Outcome.CONNECTION_FAILED:
                with self._lock:
                    cause = report.retrying[-1]["error"] if report.retrying else "unavailable"
                    if report.stopped_early is None:
                        report.stopped_early = f"{cause}; the rest waits for a later pass"
                self._halt.set()
                return


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
        for reminder in session.scalars(due_query(now).execution_options(yield_per=500)):
            report.due.append(_summary(reminder))
        session.rollback()
    return report


@dataclass(slots=True)
class _Prepared:
    """A claimed row, composed: its message, or why it cannot be sent."""

    claim: Claim
    summary: dict[str, Any] = field(default_factory=dict)
    lease_ends: datetime | None = None
    message: OutgoingMail | None = None
    lost: bool = False  # our lease ran out and another sender holds the row now
    obsolete: str | None = None  # why it is no longer wanted on today's facts
    unsendable: str | None = None  # data that cannot make a safe message
    compose_error: str | None = None  # a bug (a template error, say): retried


def _prepare_batch(
    session_factory: sessionmaker[Session],
    env: Environment,
    identity: MailIdentity,
    claims: list[Claim],
    clock: PassClock,
) -> list[_Prepared]:
    """Compose every claimed row of a batch, reading the rows in a constant number of
    queries (the reminders, then each relation for all of them at once)."""
    prepared = [_Prepared(claim=claim) for claim in claims]
    with session_factory() as session:
        reminders = {
            reminder.id: reminder
            for reminder in session.scalars(
                select(Reminder)
                .where(Reminder.id.in_([claim.reminder_id for claim in claims]))
                .options(
                    selectinload(Reminder.items),
                    selectinload(Reminder.participant).selectinload(Participant.actions),
                    selectinload(Reminder.participant)
                    .selectinload(Participant.programme)
                    .selectinload(Programme.coordinators),
                    selectinload(Reminder.programme).selectinload(Programme.coordinators),
                )
            )
        }
        preload_last_notes(session, [r.participant for r in reminders.values() if r.participant])
        obsolete = why_no_longer_wanted(list(reminders.values()), session=session)
        for item in prepared:
            item.obsolete = obsolete.get(item.claim.reminder_id)
            _compose_one(item, reminders.get(item.claim.reminder_id), session, env, identity, clock)
        session.rollback()
    return prepared


def _compose_one(
    item: _Prepared,
    reminder: Reminder | None,
    session: Session,
    env: Environment,
    identity: MailIdentity,
    clock: PassClock,
) -> None:
    if reminder is None or reminder.state != "sending" or reminder.attempts != item.claim.attempts:
        item.lost = True
        return
    item.summary = _summary(reminder)
    item.lease_ends = reminder.lease_expires_at
    if item.obsolete is not None:
        return
    try:
        item.message = compose_reminder(
            reminder, session=session, env=env, identity=identity, now=clock.now()
        )
    except UnsafeHeaderError as error:
        # Data that cannot make a safe message will not change by waiting.
        item.unsendable = f"cannot compose: {error}"
        session.rollback()
    except Exception as error:
        # A bug (a template error, say): retried with backoff so that a fix
        # lets it go out, and failed after the last attempt; never a stuck pass.
        log.exception("action=reminder.compose_failed reminder=%s", item.claim.reminder_id)
        item.compose_error = f"cannot compose: {error}"
        session.rollback()


def _send_one(
    session_factory: sessionmaker[Session],
    mailer: Mailer,
    item: _Prepared,
    clock: PassClock,
    policy: OutboxPolicy,
    report: SendReport,
) -> Outcome | None:
    """Send one composed row; None when the claim was lost before sending.

    Raises SmtpConfigurationError, for the pass to stop.
    """
    claim, summary = item.claim, item.summary
    if item.lost:
        _lost(claim, report)
        return None
    if item.obsolete is not None:
        # Planned on facts that have changed since (a reply while it was retrying).
        record_cancelled(session_factory, claim, summary, item.obsolete, clock, report)
        return None
    if item.unsendable is not None:
        return record_unsendable(session_factory, claim, summary, item.unsendable, clock, report)
    if item.compose_error is not None or item.message is None:
        problem = TemporaryMailError(item.compose_error or "cannot compose", connection_level=False)
        return record_failure(session_factory, claim, summary, problem, clock, policy, report)
    # The claim must outlive the SMTP transaction: renew it when it is close to
    # expiry, and send nothing if it went to another sender meanwhile.
    near_expiry = item.lease_ends is None or item.lease_ends - clock.now() < policy.renew_margin
    if near_expiry and not renew_claim(session_factory, claim, clock, policy):
        _lost(claim, report)
        return None
    try:
        mailer.send(item.message)
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
