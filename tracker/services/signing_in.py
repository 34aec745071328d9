"""Signing coordinators in to the dashboard, with throttled password guessing.

Failed attempts are rows (`sign_in_failures`), counted per account and per
client address over a sliding window. They live in the database so that every
thread and process of the web server shares one count and a restart does not
reset it. While an account or an address is over its limit, no password is
even checked; a refused attempt is not counted (else an attacker could keep
the real coordinator locked out for ever by trying on).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, text
from sqlalchemy.orm import Session

from tracker.db.orm import Coordinator, Event, SignInFailure
from tracker.services.passwords import password_hasher, verify_password


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failed sign-ins an account and an address get per window."""

    window: timedelta = timedelta(minutes=15)
    per_account: int = 5
    per_address: int = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedIn:
    """The coordinator a dashboard session belongs to, as a plain record."""

    coordinator_id: int
    email: str
    name: str
    epoch: int
    language: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInRefused:
    """Wrong email or password (`retry_at` None), or too many failures until `retry_at`."""

    retry_at: datetime | None = None


def sign_in(
    email: str,
    password: str,
    *,
    address: str,
    session: Session,
    now: datetime,
    policy: ThrottlePolicy | None = None,
) -> SignedIn | SignInRefused:
    """Check a sign-in attempt; the caller commits (a failure is recorded).

    1. Serialise attempts on the same account (an advisory lock on
       PostgreSQL; SQLite transactions already take the write lock).
    2. Over the limit for this account or address: refused until the oldest
       failure in the window leaves it; the password is not checked.
    3. Check the password (as slowly for an unknown account as a known one).
    4. Success clears the account's failures; a failure is recorded.
    """
    policy = policy or ThrottlePolicy()
    email = email.strip().lower()[:320]
    address = address[:64]
    _lock_account(email, session=session)
    since = now - policy.window
    retry_at = _throttled_until(
        SignInFailure.email == email, policy.per_account, since, policy, session=session
    ) or _throttled_until(
        SignInFailure.address == address, policy.per_address, since, policy, session=session
    )
    if retry_at is not None:
        return SignInRefused(retry_at=retry_at)
    coordinator = session.scalar(select(Coordinator).where(Coordinator.email == email))
    if not verify_password(coordinator.password_hash if coordinator else None, password):
        session.add(SignInFailure(at=now, email=email, address=address))
        session.execute(delete(SignInFailure).where(SignInFailure.at < since))
        return SignInRefused()
    assert coordinator is not None
    assert coordinator.password_hash is not None
    session.execute(delete(SignInFailure).where(SignInFailure.email == email))
    if password_hasher().check_needs_rehash(coordinator.password_hash):
        coordinator.password_hash = password_hasher().hash(password)
    session.add(
        Event(
            at=now,
            action="coordinator.signed_in",
            actor=f"coordinator:{email}",
            detail=f"from {address}",
        )
    )
    return signed_in(coordinator)


def signed_in(coordinator: Coordinator) -> SignedIn:
    return SignedIn(
        coordinator_id=coordinator.id,
        email=coordinator.email,
        name=coordinator.name,
        epoch=coordinator.session_epoch,
        language=coordinator.language,
    )


def current_sign_in(coordinator_id: int, epoch: int, *, session: Session) -> SignedIn | None:
    """The coordinator of a session, if that session has not been ended since."""
    coordinator = session.get(Coordinator, coordinator_id)
    if coordinator is None or coordinator.password_hash is None:
        return None
    if coordinator.session_epoch != epoch:
        return None
    return signed_in(coordinator)


def sign_out_everywhere(coordinator_id: int, *, session: Session, now: datetime) -> None:
    """End every dashboard session of this coordinator (a cookie cannot be taken back)."""
    coordinator = session.get(Coordinator, coordinator_id)
    if coordinator is None:
        return
    coordinator.session_epoch += 1
    session.add(
        Event(at=now, action="coordinator.signed_out", actor=f"coordinator:{coordinator.email}")
    )


def set_dashboard_language(coordinator_id: int, language: str, *, session: Session) -> None:
    """Remember the coordinator's choice of language for the dashboard."""
    coordinator = session.get(Coordinator, coordinator_id)
    if coordinator is not None:
        coordinator.language = language


def _throttled_until(
    match: ColumnElement[bool],
    limit: int,
    since: datetime,
    policy: ThrottlePolicy,
    *,
    session: Session,
) -> datetime | None:
    """When the account or address may try again, if it has reached its limit.

    The window slides: the limit-th most recent failure decides, and one more
    attempt is allowed when it leaves the window.
    """
    limiting = session.scalar(
        select(SignInFailure.at)
        .where(match, SignInFailure.at >= since)
        .order_by(SignInFailure.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    return None if limiting is None else limiting + policy.window


def _lock_account(email: str, *, session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(
        hashlib.sha256(f"sign-in:{email}".encode()).digest()[:8], "big", signed=True
    )
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
