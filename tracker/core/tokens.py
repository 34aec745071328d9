"""Signed reply tokens: which reminder a reply answers, unforgeable without the key.

A token is ``<reminder id>.<nonce>.<signature>``: the id in decimal, the
reminder's nonce (12 base32 characters, 60 random bits stored with the row)
and the first 80 bits of HMAC-SHA256 over ``"reply:<id>:<nonce>"``, all in
lower-case base32 so that it survives mail systems that fold the case of local
parts. It goes in the Reply-To plus-address (``followup+12.k3j…@example.org``:
a token is at most 47 characters for an id below 10**17, so ``followup+`` and
the token fit the 64 characters of a local part) and in the Message-ID of the
reminder (``<tracker.12.k3j…@example.org>``).

The id lets a token be checked without a lookup; the nonce makes it name one
row of one database: the same id in another installation (or a rebuilt
database) with the same key has another nonce, so neither its Message-ID nor
its token repeats, and `tracker.services.reply_tokens` refuses a token whose
nonce is not the row's.

Rows planned before nonces existed have none: their token is the older
``<id>.<signature>`` over ``"reply:<id>"``, still accepted for exactly those
rows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

_SIGNATURE_LENGTH = 16  # base32 characters: 80 bits
NONCE_LENGTH = 12  # base32 characters: 60 bits
NONCE_BYTES = 8  # random bytes a nonce is made from (64 bits, cut to 60)
TOKEN_PATTERN = re.compile(
    r"(?<![0-9a-z])([0-9]{1,18})\.(?:([a-z2-7]{12})\.)?([a-z2-7]{16})(?![a-z2-7])",
    re.IGNORECASE,
)
_NONCE = re.compile(r"[a-z2-7]{12}")


@dataclass(frozen=True, slots=True)
class ReplyToken:
    """What a verified token names: a reminder id and its nonce (None for older rows)."""

    reminder_id: int
    nonce: str | None


def nonce_from_bytes(data: bytes) -> str:
    """A reminder nonce from random bytes (at least NONCE_BYTES of them)."""
    if len(data) < NONCE_BYTES:
        raise ValueError(f"a nonce needs {NONCE_BYTES} random bytes")
    return base64.b32encode(data).decode("ascii").lower()[:NONCE_LENGTH]


def _signature(reminder_id: int, nonce: str | None, secret_key: str) -> str:
    signed = f"reply:{reminder_id}" if nonce is None else f"reply:{reminder_id}:{nonce}"
    digest = hmac.new(secret_key.encode("utf-8"), signed.encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:_SIGNATURE_LENGTH]


def make_reply_token(reminder_id: int, secret_key: str, *, nonce: str | None) -> str:
    """The token that a reply to reminder `reminder_id` (with its `nonce`) carries back."""
    if reminder_id < 1:
        raise ValueError("reminder ids are positive")
    if not secret_key:
        raise ValueError("a secret key is required to sign reply tokens")
    if nonce is None:
        return f"{reminder_id}.{_signature(reminder_id, None, secret_key)}"
    if not _NONCE.fullmatch(nonce):
        raise ValueError(f"not a reminder nonce: {nonce!r}")
    return f"{reminder_id}.{nonce}.{_signature(reminder_id, nonce, secret_key)}"


def find_token(text: str) -> str | None:
    """The first string in `text` shaped like a reply token (not yet verified), lower-cased."""
    match = TOKEN_PATTERN.search(text)
    return match.group(0).lower() if match else None


def read_reply_token(token: str, secret_key: str) -> ReplyToken | None:
    """The reminder id and nonce a token names, or None when its signature does not verify.

    The comparison is constant-time so that timing reveals nothing about the
    signature. Whether the nonce is the row's is for the caller to check.
    """
    match = TOKEN_PATTERN.fullmatch(token.strip())
    if match is None or not secret_key:
        return None
    reminder_id = int(match.group(1))
    if reminder_id < 1:
        return None
    nonce = match.group(2).lower() if match.group(2) else None
    expected = _signature(reminder_id, nonce, secret_key)
    if hmac.compare_digest(expected, match.group(3).lower()):
        return ReplyToken(reminder_id=reminder_id, nonce=nonce)
    return None


def verify_reply_token(token: str, secret_key: str) -> int | None:
    """The reminder id a token names when its signature verifies (its nonce unchecked)."""
    read = read_reply_token(token, secret_key)
    return read.reminder_id if read is not None else None
