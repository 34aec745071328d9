"""Keys for one purpose each, derived from TRACKER_SECRET_KEY.

Reply tokens, dashboard sessions, set-your-password links and participants'
personal links must not share a
key: a value signed for one purpose must never verify for another, and one
purpose's key can then be rotated without the others. Each key is
HMAC-SHA256 of a purpose label under the secret; the secret itself is never
used directly.
"""

from __future__ import annotations

import hashlib
import hmac

WEB_SESSION = "web-session"
PASSWORD_LINK = "password-link"
PARTICIPANT_LINK = "participant-link"


def derive_key(secret_key: str, purpose: str) -> bytes:
    """The 32-byte key for `purpose` (a fixed label such as `WEB_SESSION`)."""
    if not secret_key:
        raise ValueError("a secret key is required to derive a key")
    if not purpose:
        raise ValueError("a key needs a purpose")
    label = f"follow-up-tracker/{purpose}".encode()
    return hmac.new(secret_key.encode("utf-8"), label, hashlib.sha256).digest()
