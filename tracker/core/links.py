"""Participants' personal links: ``/u/<token>`` and ``/unsubscribe/<token>``.

A token is ``<participant id>.<expiry day>.<signature>``: the id in decimal,
the day it expires (whole days since 1970-01-01, UTC) in decimal, and the
first 130 bits of HMAC-SHA256 over ``"link:<id>:<programme id>:<email>:<day>"``
in lower-case base32. The key is derived for this purpose alone
(`tracker.core.keys.PARTICIPANT_LINK`), so a reply token or a session cookie
never verifies as a link.

Signing the participant's email and programme means a link dies at once when
their address changes (the signature no longer matches the row), and a link
made in one programme never opens another. Opting out and archiving are
checked against the row when the link is used
(`tracker.services.participant_links`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tracker.core.keys import PARTICIPANT_LINK, derive_key

_EPOCH = date(1970, 1, 1)
_SIGNATURE_LENGTH = 26  # base32 characters: 130 bits
LINK_PATTERN = re.compile(r"([0-9]{1,18})\.([0-9]{1,7})\.([a-z2-7]{26})")


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkFacts:
    """Whom a link is for, as its signature binds them."""

    participant_id: int
    programme_id: int
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkToken:
    """A token's parts, read but not yet verified against a participant."""

    participant_id: int
    expires_on: date  # the link works until the start of this day, UTC
    signature: str


def link_expiry(now: datetime, valid_days: int) -> date:
    """The expiry day of a link made at `now`: at least `valid_days` whole days away."""
    if valid_days < 1:
        raise ValueError("a link is valid for at least one day")
    return now.astimezone(UTC).date() + timedelta(days=valid_days + 1)


def _signature(facts: LinkFacts, day: int, secret_key: str) -> str:
    signed = f"link:{facts.participant_id}:{facts.programme_id}:{facts.email.lower()}:{day}"
    key = derive_key(secret_key, PARTICIPANT_LINK)
    digest = hmac.new(key, signed.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:_SIGNATURE_LENGTH]


def make_link_token(facts: LinkFacts, *, expires_on: date, secret_key: str) -> str:
    """The token of `facts`' personal link, valid until `expires_on` (UTC)."""
    if facts.participant_id < 1:
        raise ValueError("participant ids are positive")
    day = (expires_on - _EPOCH).days
    if day < 1:
        raise ValueError("a link expires after 1970")
    return f"{facts.participant_id}.{day}.{_signature(facts, day, secret_key)}"


def read_link_token(token: str) -> LinkToken | None:
    """The parts of a token shaped like a link token, or None (nothing verified yet)."""
    match = LINK_PATTERN.fullmatch(token.strip().lower())
    if match is None:
        return None
    participant_id, day = int(match.group(1)), int(match.group(2))
    if participant_id < 1 or day < 1:
        return None
    return LinkToken(
        participant_id=participant_id,
        expires_on=_EPOCH + timedelta(days=day),
        signature=match.group(3),
    )


def link_matches(token: LinkToken, facts: LinkFacts, secret_key: str) -> bool:
    """Whether `token` was signed for exactly `facts` (constant-time comparison)."""
    if token.participant_id != facts.participant_id or not secret_key:
        return False
    day = (token.expires_on - _EPOCH).days
    return hmac.compare_digest(_signature(facts, day, secret_key), token.signature)


def link_expired(token: LinkToken, now: datetime) -> bool:
    """Whether the link's day has come (it works until the start of that day, UTC)."""
    return now.astimezone(UTC).date() >= token.expires_on
