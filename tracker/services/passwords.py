"""Coordinators' dashboard passwords: argon2id hashes, and set-your-password links.

A link is signed with its own derived key and carries the coordinator's id,
its expiry, and a fingerprint of the password hash it was made under. Setting
any password changes the hash (argon2 salts every hash), so a link works once:
after use, or after another new password, its fingerprint no longer matches.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.keys import PASSWORD_LINK, derive_key
from tracker.db.orm import Coordinator, Event
from tracker.errors import NotFoundError, TrackerError

MIN_PASSWORD_LENGTH = 10
# Hashing cost grows with the length: a megabyte "password" is an attack, not a secret.
MAX_PASSWORD_LENGTH = 1000
PASSWORD_LINK_VALIDITY = timedelta(hours=72)


def password_hasher() -> PasswordHasher:
    """argon2id with the library's recommended parameters (RFC 9106, low memory)."""
    return PasswordHasher()


def find_coordinator(email: str, *, session: Session) -> Coordinator:
    coordinator = session.scalar(
        select(Coordinator).where(Coordinator.email == email.strip().lower())
    )
    if coordinator is None:
        raise NotFoundError(f"no coordinator {email.strip()}: import a programme that names them")
    return coordinator


def check_new_password(password: str) -> None:
    """Refuse a password too short to resist guessing (or absurdly long)."""
    if len(password.strip()) < MIN_PASSWORD_LENGTH:
        raise TrackerError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise TrackerError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")


def set_password(
    coordinator: Coordinator, password: str, *, session: Session, now: datetime, actor: str
) -> None:
    """Store the new password's hash; every session signed in before is over."""
    check_new_password(password)
    coordinator.password_hash = password_hasher().hash(password)
    coordinator.session_epoch += 1
    session.add(
        Event(at=now, action="coordinator.password_set", actor=actor, detail=coordinator.email)
    )


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; without a hash, the same work is done and it fails."""
    hasher = password_hasher()
    try:
        if password_hash is None or len(password) > MAX_PASSWORD_LENGTH:
            # As slow as a real check, so timing does not tell who has an account.
            hasher.verify(_dummy_hash(), "not the password")
            return False
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:16]


def make_password_link_token(
    coordinator: Coordinator,
    *,
    secret_key: str,
    now: datetime,
    valid_for: timedelta = PASSWORD_LINK_VALIDITY,
) -> str:
    """The signed token of a set-your-password link for `coordinator`."""
    payload = {
        "c": coordinator.id,
        "f": password_fingerprint(coordinator.password_hash),
        "e": int((now + valid_for).timestamp()),
    }
    return str(_link_serializer(secret_key).dumps(payload))


def coordinator_for_link(
    token: str, *, session: Session, secret_key: str, now: datetime
) -> Coordinator:
    """The coordinator a set-your-password link is for, if it is valid, unused and current."""
    try:
        payload = _link_serializer(secret_key).loads(token)
        coordinator_id, fingerprint, expires = int(payload["c"]), str(payload["f"]), payload["e"]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise TrackerError("this link is not valid: ask for a new one") from None
    if now.timestamp() > expires:
        raise TrackerError("this link has expired: ask for a new one")
    coordinator = session.get(Coordinator, coordinator_id)
    if coordinator is None or password_fingerprint(coordinator.password_hash) != fingerprint:
        raise TrackerError("this link has been used already: ask for a new one")
    return coordinator


def _link_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(derive_key(secret_key, PASSWORD_LINK), salt="set-password")


@cache
def _dummy_hash() -> str:
    return password_hasher().hash("a password nobody has")
