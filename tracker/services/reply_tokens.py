"""From a reply token back to the reminder it was made for."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tracker.core.tokens import read_reply_token
from tracker.db.orm import Reminder


def reminder_for_token(session: Session, token: str, secret_key: str) -> Reminder | None:
    """The reminder `token` names, or None when it does not verify or names no row of ours.

    The signature proves the token was made with our key; the nonce proves it
    was made for this row of this database. A token from another installation
    with the same key (or from before the database was rebuilt) verifies but
    carries another nonce, and is refused. Rows planned before nonces existed
    have none, and accept only the older token without one.
    """
    read = read_reply_token(token, secret_key)
    if read is None:
        return None
    reminder = session.get(Reminder, read.reminder_id)
    if reminder is None or reminder.nonce != read.nonce:
        return None
    return reminder
