"""Signed reply tokens: which reminder a reply answers, unforgeable without the key.

A token is ``<reminder id>.<signature>``: the id in decimal, the signature the
first 80 bits of HMAC-SHA256 over ``"reply:<id>"``, in lower-case base32 so
that it survives mail systems that fold the case of local parts. It goes in
the Reply-To plus-address (``followup+12.k3j…@example.org``) and in the
Message-ID of the reminder (``<tracker.12.k3j…@example.org>``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_SIGNATURE_LENGTH = 16  # base32 characters: 80 bits
TOKEN_PATTERN = re.compile(r"(?<![0-9a-z])([0-9]{1,18})\.([a-z2-7]{16})(?![a-z2-7])", re.IGNORECASE)


def _signature(reminder_id: int, secret_key: str) -> str:
    digest = hmac.new(
        secret_key.encode("utf-8"), f"reply:{reminder_id}".encode("ascii"), hashlib.sha256
    ).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:_SIGNATURE_LENGTH]


def make_reply_token(reminder_id: int, secret_key: str) -> str:
    """The token that a reply to reminder `reminder_id` carries back."""
    if reminder_id < 1:
        raise ValueError("reminder ids are positive")
    if not secret_key:
        raise ValueError("a secret key is required to sign reply tokens")
    return f"{reminder_id}.{_signature(reminder_id, secret_key)}"


def find_token(text: str) -> str | None:
    """The first string in `text` shaped like a reply token (not yet verified)."""
    match = TOKEN_PATTERN.search(text)
    return f"{match.group(1)}.{match.group(2).lower()}" if match else None


def verify_reply_token(token: str, secret_key: str) -> int | None:
    """The reminder id a token names, or None when its signature does not verify.

    The comparison is constant-time so that timing reveals nothing about the
    signature.
    """
    match = TOKEN_PATTERN.fullmatch(token.strip())
    if match is None or not secret_key:
        return None
    reminder_id = int(match.group(1))
    if reminder_id < 1:
        return None
    expected = _signature(reminder_id, secret_key)
    if hmac.compare_digest(expected, match.group(2).lower()):
        return reminder_id
    return None
