"""Keeping inbound mail: the raw bytes are committed before anything reads them.

Deduplicated by Message-ID, else by a SHA-256 of the bytes, so the same
message fetched twice (an IMAP pass that crashed before flagging it, an MTA
that retried a pipe delivery) is kept once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.core.model import InboundState
from tracker.db.orm import Event, InboundMessage
from tracker.inbound.mime import addresses_in, header_text, read_message

log = logging.getLogger(__name__)

_ENVELOPE_BYTES = 256 * 1024  # headers live at the top; never parse a huge body to list it


def store_inbound(
    raw: bytes, *, session: Session, source: str, now: datetime
) -> tuple[InboundMessage, bool]:
    """Keep the raw message; return it and whether it was already kept."""
    message_id, from_address, subject = _envelope(raw)
    digest = hashlib.sha256(raw).hexdigest()
    existing = _find_stored(session, message_id, digest)
    if existing is not None:
        return existing, True
    inbound = InboundMessage(
        message_id=message_id,
        content_hash=digest,
        raw=raw,
        size=len(raw),
        source=source,
        received_at=now,
        from_address=from_address,
        subject=subject,
        state=InboundState.STORED.value,
    )
    try:
        with session.begin_nested():
            session.add(inbound)
            session.flush()
    except IntegrityError:  # another process stored the same message a moment ago
        found = _find_stored(session, message_id, digest)
        assert found is not None
        return found, True
    session.add(
        Event(at=now, action="inbound.stored", inbound_message_id=inbound.id, detail=source)
    )
    log.info("action=inbound.stored inbound=%s source=%s size=%d", inbound.id, source, len(raw))
    return inbound, False


def _find_stored(session: Session, message_id: str | None, digest: str) -> InboundMessage | None:
    if message_id is not None:
        found = session.scalars(
            select(InboundMessage).where(InboundMessage.message_id == message_id)
        ).first()
        if found is not None:
            return found
    return session.scalars(
        select(InboundMessage).where(InboundMessage.content_hash == digest)
    ).first()


def _envelope(raw: bytes) -> tuple[str | None, str | None, str | None]:
    """Message-ID, From address and Subject, read leniently for storage and listing."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:_ENVELOPE_BYTES])
        message_id = re.search(r"<[^<>\s]+>", str(headers.get("Message-ID", "")))
        message = read_message(raw[:_ENVELOPE_BYTES])
        senders = addresses_in([header_text(message, "From") or ""])
        subject = header_text(message, "Subject")
    except Exception:  # storage must never fail on a malformed header
        return None, None, None
    return (
        message_id.group(0)[:998] if message_id else None,
        senders[0][1][:320] if senders else None,
        subject,
    )
