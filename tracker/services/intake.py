"""Taking in mail: store the raw bytes first, read them with no lock held, then record.

1. **Store** (`store_inbound`, one transaction, committed): the raw bytes,
   deduplicated by Message-ID, else by a hash of the bytes.
2. **Look** (a short read): the reminder the message's token or thread names,
   and the refs of the participant it went to. (`ingest` hands on the bytes
   and state its store step committed; `tracker reprocess` reads them back.)
3. **Read** (no transaction open): the reader runs once, with those refs, in
   a reader process within a time budget (`reading.read_within_budget`).
4. **Record** (one short transaction): decide what the message is and apply
   it, or hold it for a coordinator (`deciding.decide`).

Any exception in 2-4 leaves the message `failed` with the reason, never
`processed` with nothing recorded; a failed message is not retried on its own
(`tracker reprocess ID` does, after a fix), so it never blocks the next one.
A database that went away (a restart, a lost connection: the database's
fault, not the message's), or that cannot even record the failure, leaves
the message `stored`, for the next pass. Processing can be repeated: the updates a message
produced are replaced, never duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from tracker.core.model import InboundState
from tracker.db.orm import Action, Event, InboundMessage, Participant, Reminder
from tracker.errors import NotFoundError
from tracker.services.deciding import IntakeResult, decide, intake_result
from tracker.services.envelope import Envelope, read_envelope
from tracker.services.reading import ReadingFailed, ReadingLimits, read_within_budget
from tracker.services.reply_tokens import reminder_for_token
from tracker.services.storing import store_inbound

__all__ = [
    "IntakeResult",
    "ingest",
    "mark_failed",
    "process_message",
    "process_stored",
    "reprocess",
]

log = logging.getLogger(__name__)

# Deciding on a reply reads the participant the reminder went to, their programme and
# actions: loaded with the reminder (two queries), not one lazy load at a time.
_WHAT_A_REPLY_NEEDS = (
    joinedload(Reminder.participant).options(
        joinedload(Participant.programme), selectinload(Participant.actions)
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    """A stored message as step 2 starts from: its bytes, and how far it got when read."""

    raw: bytes
    state: str
    processed_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Look:
    """What step 2 saw: the reminder the message's headers name, and its participant's refs."""

    reminder_id: int | None
    match_problem: str | None  # "bad_token" or why nothing matched
    known_refs: tuple[str, ...] | None


def ingest(
    raw: bytes,
    *,
    session_factory: sessionmaker[Session],
    secret_key: str,
    source: str,
    now: datetime,
    limits: ReadingLimits | None = None,
) -> IntakeResult:
    """Store `raw` (committed), then process it (see the module's steps)."""
    with session_factory.begin() as session:
        inbound, duplicate = store_inbound(raw, session=session, source=source, now=now)
        inbound_id = inbound.id
        if duplicate and inbound.state != InboundState.STORED.value:
            return intake_result(inbound, duplicate=True, session=session)
        # What step 2 would read back once this commits (for a copy stored before, its bytes).
        stored = StoredMessage(
            raw=bytes(inbound.raw), state=inbound.state, processed_at=inbound.processed_at
        )
    return process_message(
        inbound_id,
        session_factory=session_factory,
        secret_key=secret_key,
        now=now,
        duplicate=duplicate,
        limits=limits,
        stored=stored,
    )


def process_message(
    inbound_id: int,
    *,
    session_factory: sessionmaker[Session],
    secret_key: str,
    now: datetime,
    duplicate: bool = False,
    limits: ReadingLimits | None = None,
    stored: StoredMessage | None = None,
) -> IntakeResult:
    """Steps 2-4 for one stored message (also `tracker reprocess`); `stored`: the message as
    its store step committed it, when the caller holds it (else it is read back)."""
    try:
        stored = stored or _read_stored(inbound_id, session_factory=session_factory)
        look = _look(stored, session_factory=session_factory, secret_key=secret_key)
        parsed = read_within_budget(stored.raw, known_refs=look.known_refs, limits=limits)
        with session_factory.begin() as session:
            inbound = session.get_one(InboundMessage, inbound_id, with_for_update=True)
            if (inbound.state, inbound.processed_at) != (stored.state, stored.processed_at):
                # Another process (the service, a second ingest) got there first.
                return intake_result(inbound, duplicate=duplicate, session=session)
            reminder = (
                session.get(Reminder, look.reminder_id, options=_WHAT_A_REPLY_NEEDS)
                if look.reminder_id is not None
                else None
            )
            return decide(
                inbound,
                parsed,
                reminder,
                match_problem=look.match_problem,
                session=session,
                now=now,
                duplicate=duplicate,
                attachment_limits=limits.attachments if limits is not None else None,
            )
    except (OperationalError, InterfaceError) as error:
        return _deferred(inbound_id, error, duplicate=duplicate)
    except Exception as error:
        try:
            return mark_failed(
                inbound_id, error, session_factory=session_factory, now=now, duplicate=duplicate
            )
        except Exception as second:
            # Not even that could be written (the database is gone).
            return _deferred(inbound_id, second, duplicate=duplicate)


def _deferred(inbound_id: int, error: Exception, *, duplicate: bool) -> IntakeResult:
    """The database failed under us: the message stays stored, and the next pass (the
    service's, or `tracker reprocess`) reads it."""
    log.warning("action=inbound.process_deferred inbound=%s error=%s", inbound_id, _one_line(error))
    return IntakeResult(
        inbound_id=inbound_id,
        duplicate=duplicate,
        state=InboundState.STORED.value,
        detail=f"stored; the database failed while it was read ({_one_line(error)}); it "
        "will be read again by the service or `tracker reprocess`",
    )


def mark_failed(
    inbound_id: int,
    error: Exception,
    *,
    session_factory: sessionmaker[Session],
    now: datetime,
    duplicate: bool = False,
) -> IntakeResult:
    """Record that processing raised: state `failed`, the reason in one line."""
    reason = str(error) if isinstance(error, ReadingFailed) else _one_line(error)
    details = error.details if isinstance(error, ReadingFailed) else ""
    # Info, like a held message: the commands report it, `tracker run` logs at info.
    log.info("action=inbound.failed inbound=%s reason=%s", inbound_id, reason)
    # The traceback, for whoever fixes the cause (`tracker -v` does not show debug).
    if details:
        log.debug("action=inbound.failed inbound=%s reader traceback:\n%s", inbound_id, details)
    else:
        log.debug("action=inbound.failed inbound=%s", inbound_id, exc_info=error)
    with session_factory.begin() as session:
        inbound = session.get_one(InboundMessage, inbound_id)
        inbound.state = InboundState.FAILED.value
        inbound.hold_reason = None
        inbound.detail = reason
        inbound.processed_at = now
        session.add(
            Event(at=now, action="inbound.failed", inbound_message_id=inbound.id, detail=reason)
        )
        session.flush()
        return intake_result(inbound, duplicate=duplicate, session=session)


def _one_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    first = text.splitlines()[0][:300] if text else "(no message)"
    return f"processing raised {type(error).__name__}: {first}"


def _read_stored(inbound_id: int, *, session_factory: sessionmaker[Session]) -> StoredMessage:
    with session_factory() as session:
        raw, state, processed_at = (
            session.execute(
                select(InboundMessage.raw, InboundMessage.state, InboundMessage.processed_at).where(
                    InboundMessage.id == inbound_id
                )
            )
            .tuples()
            .one()
        )
    return StoredMessage(raw=bytes(raw), state=state, processed_at=processed_at)


def _look(
    stored: StoredMessage, *, session_factory: sessionmaker[Session], secret_key: str
) -> _Look:
    """Step 2: the headers are read with no lock held, then one short read."""
    envelope = read_envelope(stored.raw)
    with session_factory() as session:
        reminder, problem = _find_reminder(envelope, session=session, secret_key=secret_key)
        refs = (
            tuple(
                session.scalars(
                    select(Action.ref)
                    .where(
                        Action.participant_id == reminder.participant_id,
                        Action.archived_at.is_(None),
                    )
                    .order_by(Action.position)
                )
            )
            if reminder is not None and reminder.participant_id is not None
            else None
        )
        reminder_id = reminder.id if reminder is not None else None
    return _Look(
        reminder_id=reminder_id,
        match_problem=problem,
        known_refs=refs,
    )


def _find_reminder(
    envelope: Envelope, *, session: Session, secret_key: str
) -> tuple[Reminder | None, str | None]:
    """The reminder a message answers: its signed token, else our Message-ID in its thread."""
    if envelope.token is not None:
        reminder = reminder_for_token(session, envelope.token, secret_key)
        if reminder is None:
            return None, "bad_token"
        return reminder, None
    if envelope.thread:
        reminder = session.scalars(
            select(Reminder).where(Reminder.message_id.in_(envelope.thread))
        ).first()
        if reminder is not None:
            return reminder, None
    return None, "no reply token and no reference to a reminder of ours"


def process_stored(
    *,
    session_factory: sessionmaker[Session],
    secret_key: str,
    now: datetime,
    limits: ReadingLimits | None = None,
    advance: Callable[[int], None] | None = None,
) -> list[IntakeResult]:
    """Process every message stored but not yet processed, oldest first, each on its own."""
    with session_factory() as session:
        ids = list(
            session.scalars(
                select(InboundMessage.id)
                .where(InboundMessage.state == InboundState.STORED.value)
                .order_by(InboundMessage.id)
            )
        )
    return reprocess(
        ids,
        session_factory=session_factory,
        secret_key=secret_key,
        now=now,
        limits=limits,
        advance=advance,
    )


def reprocess(
    ids: Sequence[int],
    *,
    session_factory: sessionmaker[Session],
    secret_key: str,
    now: datetime,
    limits: ReadingLimits | None = None,
    advance: Callable[[int], None] | None = None,
) -> list[IntakeResult]:
    """Process the given messages (again), replacing what they recorded before.

    Discarded messages are left alone. A message that fails is marked
    `failed` and the others go on; `advance(1)` is called after each.
    """
    with session_factory() as session:
        found = dict(
            session.execute(
                select(InboundMessage.id, InboundMessage.state).where(InboundMessage.id.in_(ids))
            )
            .tuples()
            .all()
        )
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFoundError(f"no inbound message {', '.join(str(i) for i in missing)}")
    results: list[IntakeResult] = []
    for inbound_id in ids:
        if found[inbound_id] != InboundState.DISCARDED.value:
            results.append(
                process_message(
                    inbound_id,
                    session_factory=session_factory,
                    secret_key=secret_key,
                    now=now,
                    limits=limits,
                )
            )
        if advance is not None:
            advance(1)
    return results
