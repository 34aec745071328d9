"""Claiming the outbox: which rows are due, and taking them so no other sender does.

A claim is a compare-and-set on the row's `(id, state, attempts)` (and, on
PostgreSQL, `FOR UPDATE SKIP LOCKED` so that concurrent senders skip each
other's rows instead of waiting). It records a lease and the Message-ID, and
is committed before anything is sent: see docs/design.md, "Sending exactly once".

Leases are measured on a `PassClock`: the pass's `now` plus the time elapsed
since the pass began. A pass longer than a lease therefore never claims rows
that are born expired, and `renew_claim` extends a claim that is close to
expiry before its message is sent. `attempts` identifies a claim (each claim
adds one), so a sender whose lease ran out and whose row was taken by another
cannot renew it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tracker.db.orm import Reminder, new_reminder_nonce
from tracker.services.composing import MailIdentity

DEFAULT_LEASE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    """How long a claim lasts, how much to claim at once, how often to retry, when an
    address is bouncing.

    `send_rate` (messages a minute, None for no limit) bounds a batch to what
    can be sent within half a lease at that rate.
    """

    lease: timedelta = DEFAULT_LEASE
    batch_size: int = 50
    send_rate: float | None = None
    max_attempts: int = 8
    first_retry: timedelta = timedelta(minutes=5)
    longest_retry: timedelta = timedelta(hours=6)
    hard_failures_until_bouncing: int = 3

    def retry_delay(self, attempts: int) -> timedelta:
        return min(self.first_retry * (1 << max(attempts - 1, 0)), self.longest_retry)

    @property
    def claim_size(self) -> int:
        """Rows a claim may take: the batch size, or fewer when the rate would not
        send them well inside a lease."""
        if self.send_rate is None:
            return self.batch_size
        sendable = int(self.send_rate * self.lease.total_seconds() / 60 / 2)
        return max(1, min(self.batch_size, sendable))

    @property
    def renew_margin(self) -> timedelta:
        """A claim with less than this left is renewed before its message is sent."""
        return self.lease / 2


@dataclass(slots=True)
class PassClock:
    """The time during a pass: its `now`, advanced by a monotonic clock.

    `--now` replays and tests give a pass a fixed `now`; leases must still
    grow old while the pass works, or a long pass claims rows that are already
    expired for the next sender.
    """

    start: datetime
    monotonic: Callable[[], float] = time.monotonic
    _origin: float = field(init=False)

    def __post_init__(self) -> None:
        self._origin = self.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.monotonic() - self._origin)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Reminder.state == "planned", Reminder.next_attempt_at <= now),
        and_(Reminder.state == "sending", Reminder.lease_expires_at <= now),
    )


def due_query(now: datetime) -> Any:
    return select(Reminder).where(_due(now)).order_by(Reminder.next_attempt_at, Reminder.id)


@dataclass(frozen=True, slots=True)
class Claim:
    """A row this sender holds: its id, and the attempt number that names the claim."""

    reminder_id: int
    attempts: int


def claim_batch(
    session_factory: sessionmaker[Session],
    identity: MailIdentity,
    clock: PassClock,
    policy: OutboxPolicy,
) -> list[Claim]:
    """Claim up to `policy.claim_size` due rows; their Message-IDs are recorded with the claim.

    1. Read the ids of the first due rows (locking them, SKIP LOCKED, on PostgreSQL).
    2. One UPDATE takes those still due at this moment (a lease renewed since
       they were read is not ours to take): `sending`, one more attempt, a lease.
    3. One executemany records the Message-ID (and nonce) of rows sent for the
       first time; a resend keeps the Message-ID of the first try.
    Committed before anything is sent.
    """
    with session_factory.begin() as session:
        now = clock.now()
        candidates = session.scalars(
            due_query(now)
            .with_only_columns(Reminder.id)
            .limit(policy.claim_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not candidates:
            return []
        lease_ends = now + policy.lease
        won = session.execute(
            update(Reminder)
            .where(Reminder.id.in_(candidates), _due(now))
            .values(state="sending", attempts=Reminder.attempts + 1, lease_expires_at=lease_ends)
            .returning(Reminder.id, Reminder.attempts, Reminder.nonce, Reminder.message_id)
            .execution_options(synchronize_session=False)
        ).all()
        first_tries = []
        for reminder_id, _attempts, nonce, message_id in won:
            if message_id is None:
                nonce = nonce or new_reminder_nonce()  # inserted without the ORM's default
                first_tries.append(
                    {"id": reminder_id, "nonce": nonce,
                     "message_id": identity.message_id(reminder_id, nonce)}
                )  # fmt: skip
        if first_tries:
            session.execute(update(Reminder), first_tries)  # by primary key, executemany
    order = {reminder_id: position for position, reminder_id in enumerate(candidates)}
    return [
        Claim(reminder_id=reminder_id, attempts=attempts)
        for reminder_id, attempts, _nonce, _message_id in sorted(won, key=lambda r: order[r[0]])
    ]


def renew_claim(
    session_factory: sessionmaker[Session], claim: Claim, clock: PassClock, policy: OutboxPolicy
) -> bool:
    """Extend `claim`'s lease from now; False when it is no longer ours to send."""
    with session_factory.begin() as session:
        now = clock.now()
        renewed = session.execute(
            update(Reminder)
            .where(
                Reminder.id == claim.reminder_id,
                Reminder.state == "sending",
                Reminder.attempts == claim.attempts,
            )
            .values(lease_expires_at=now + policy.lease)
            .returning(Reminder.id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
    return renewed is not None


def release_claims(session_factory: sessionmaker[Session], claims: list[Claim]) -> None:
    """Give back claims not attempted in this pass: the next pass takes them at once,
    and no attempt is counted."""
    if not claims:
        return
    with session_factory.begin() as session:
        for claim in claims:
            session.execute(
                update(Reminder)
                .where(
                    Reminder.id == claim.reminder_id,
                    Reminder.state == "sending",
                    Reminder.attempts == claim.attempts,
                )
                .values(state="planned", lease_expires_at=None, attempts=claim.attempts - 1)
                .execution_options(synchronize_session=False)
            )
