"""Keeping inbound mail: the raw bytes are committed before anything reads them.

Deduplicated by Message-ID, else by a SHA-256 of the bytes, so the same
message fetched twice (an IMAP pass that crashed before flagging it, an MTA
that retried a pipe delivery) is kept once.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.core.model import InboundState
from tracker.db.orm import Event, InboundMessage
from tracker.services.envelope import read_envelope

log = logging.getLogger(__name__)


def store_inbound(
    raw: bytes, *, session: Session, source: str, now: datetime
) -> tuple[InboundMessage, bool]:
    """Keep the raw message; return it and whether it was already kept."""
    envelope = read_envelope(raw)
    message_id = envelope.message_id
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
        from_address=envelope.from_address,
        subject=envelope.subject,
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
