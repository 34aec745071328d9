"""Claiming the outbox: which rows are due, and taking them so no other sender does.

A claim is a compare-and-set on the row's `(id, state, attempts)` (and, on
PostgreSQL, `FOR UPDATE SKIP LOCKED` so that concurrent senders skip each
other's rows instead of waiting). It records a lease and the Message-ID, and
is committed before anything is sent: see docs/design.md, "Sending exactly once".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tracker.db.orm import Reminder, new_reminder_nonce
from tracker.services.composing import MailIdentity


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    """How long a claim lasts, how often to retry, when an address is bouncing."""

    lease: timedelta = timedelta(minutes=10)
    batch_size: int = 50
    max_attempts: int = 8
    first_retry: timedelta = timedelta(minutes=5)
    longest_retry: timedelta = timedelta(hours=6)
    hard_failures_until_bouncing: int = 3

    def retry_delay(self, attempts: int) -> timedelta:
        return min(self.first_retry * (1 << max(attempts - 1, 0)), self.longest_retry)


def due_query(now: datetime) -> Any:
    return (
        select(Reminder)
        .where(
            or_(
                and_(Reminder.state == "planned", Reminder.next_attempt_at <= now),
                and_(Reminder.state == "sending", Reminder.lease_expires_at <= now),
            )
        )
        .order_by(Reminder.next_attempt_at, Reminder.id)
    )


def claim_batch(
    session_factory: sessionmaker[Session],
    identity: MailIdentity,
    now: datetime,
    policy: OutboxPolicy,
) -> list[int]:
    """Claim up to a batch of due rows; their Message-IDs are recorded with the claim."""
    claimed: list[int] = []
    with session_factory.begin() as session:
        candidates = session.execute(
            due_query(now)
            .with_only_columns(
                Reminder.id, Reminder.state, Reminder.attempts, Reminder.nonce, Reminder.message_id
            )
            .limit(policy.batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        for reminder_id, state, attempts, nonce, message_id in candidates:
            if nonce is None and message_id is None:  # inserted without the ORM's default
                nonce = new_reminder_nonce()
            won = session.execute(
                update(Reminder)
                .where(
                    Reminder.id == reminder_id,
                    Reminder.state == state,
                    Reminder.attempts == attempts,
                )
                .values(
                    state="sending",
                    attempts=attempts + 1,
                    lease_expires_at=now + policy.lease,
                    nonce=nonce,
                    # Kept once recorded: a resend carries the Message-ID of the first try.
                    message_id=message_id or identity.message_id(reminder_id, nonce),
                )
                .returning(Reminder.id)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if won is not None:  # None: another sender took the row since it was read
                claimed.append(reminder_id)
    return claimed


def release_claims(session_factory: sessionmaker[Session], reminder_ids: list[int]) -> None:
    """Give back claims not attempted in this pass: the next pass takes them at once."""
    if not reminder_ids:
        return
    with session_factory.begin() as session:
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_(reminder_ids), Reminder.state == "sending")
            .values(state="planned", lease_expires_at=None, attempts=Reminder.attempts - 1)
        )
