"""What exports hold: every action with its latest status, every recorded update, every file.

Rows are read with `yield_per` (a server-side cursor on PostgreSQL), so a
programme of half a million actions streams through in chunks and is never
in memory at once. Moments are given in the programme's time zone, with
their offset; the writers (`export_files`) make every cell safe to open.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from tracker.db.orm import Action, Attachment, InboundMessage, Participant, Programme, Update
from tracker.services.export_files import ExportCell

ExportKind = Literal["actions", "updates", "files"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("actions", "updates", "files")
_CHUNK = 1_000

ACTION_HEADER = (
    "programme",
    "email",
    "name",
    "organisation",
    "participant state",
    "ref",
    "action",
    "due",
    "status",
    "percent",
    "last update at",
    "last update source",
    "last update note",
)
UPDATE_HEADER = (
    "at",
    "programme",
    "email",
    "name",
    "organisation",
    "ref",
    "action",
    "status",
    "percent",
    "note",
    "source",
    "message id",
    "recorded at",
)

FILE_HEADER = (
    "received at",
    "programme",
    "email",
    "name",
    "ref",
    "file name",
    "type",
    "bytes",
    "sha256",
    "kept",
    "came by",
    "message id",
)


@dataclass(frozen=True, slots=True)
class ExportTable:
    """An export's header and its rows (an iterator: read it once, in its session)."""

    kind: ExportKind
    header: tuple[str, ...]
    rows: Iterator[tuple[ExportCell, ...]]


def export_table(
    kind: ExportKind, *, session: Session, programme_ids: Sequence[int] | None = None
) -> ExportTable:
    """The rows of `kind` for these programmes (None: every programme)."""
    if kind == "actions":
        return ExportTable(kind, ACTION_HEADER, _action_rows(session, programme_ids))
    if kind == "files":
        return ExportTable(kind, FILE_HEADER, _file_rows(session, programme_ids))
    return ExportTable(kind, UPDATE_HEADER, _update_rows(session, programme_ids))


def _action_rows(
    session: Session, programme_ids: Sequence[int] | None
) -> Iterator[tuple[ExportCell, ...]]:
    """1. The latest update of each action, by a window over its updates.
    2. Every current action of every current participant, with that update."""
    ranked = select(
        Update.action_id,
        Update.at,
        Update.source,
        Update.note,
        func.row_number()
        .over(partition_by=Update.action_id, order_by=(Update.at.desc(), Update.id.desc()))
        .label("rank"),
    ).where(Update.action_id.is_not(None))
    if programme_ids is not None:
        ranked = ranked.where(
            Update.participant_id.in_(
                select(Participant.id).where(Participant.programme_id.in_(programme_ids))
            )
        )
    latest = ranked.subquery()
    query = (
        select(
            Programme.slug,
            Programme.timezone,
            Participant.email,
            Participant.name,
            Participant.organisation,
            Participant.state,
            Action.ref,
            Action.title,
            Action.due_on,
            Action.status,
            Action.percent,
            latest.c.at,
            latest.c.source,
            latest.c.note,
        )
        .select_from(Action)
        .join(Participant, Action.participant_id == Participant.id)
        .join(Programme, Participant.programme_id == Programme.id)
        .outerjoin(latest, and_(latest.c.action_id == Action.id, latest.c.rank == 1))
        .where(Action.archived_at.is_(None), Participant.archived_at.is_(None))
        .order_by(Programme.slug, Participant.id, Action.position, Action.id)
    )
    for row in _streamed(session, _only(query, programme_ids)):
        (slug, zone, email, name, organisation, state, ref, title, due, status, percent) = row[:11]
        at, source, note = row[11:]
        yield (
            slug,
            email,
            name,
            organisation,
            state,
            ref,
            title,
            due,
            status,
            percent,
            _local(at, zone),
            source,
            note,
        )


def _update_rows(
    session: Session, programme_ids: Sequence[int] | None
) -> Iterator[tuple[ExportCell, ...]]:
    query = (
        select(
            Update.at,
            Programme.slug,
            Programme.timezone,
            Participant.email,
            Participant.name,
            Participant.organisation,
            Action.ref,
            Action.title,
            Update.status,
            Update.percent,
            Update.note,
            Update.source,
            InboundMessage.message_id,
            Update.recorded_at,
        )
        .select_from(Update)
        .join(Participant, Update.participant_id == Participant.id)
        .join(Programme, Participant.programme_id == Programme.id)
        .outerjoin(Action, Update.action_id == Action.id)
        .outerjoin(InboundMessage, Update.inbound_message_id == InboundMessage.id)
        .order_by(Update.at, Update.id)
    )
    for row in _streamed(session, _only(query, programme_ids)):
        at, slug, zone, email, name, organisation, ref, title = row[:8]
        status, percent, note, source, message_id, recorded_at = row[8:]
        yield (
            _local(at, zone),
            slug,
            email,
            name,
            organisation,
            ref,
            title,
            status,
            percent,
            note,
            source,
            message_id,
            _local(recorded_at, zone),
        )


def _file_rows(
    session: Session, programme_ids: Sequence[int] | None
) -> Iterator[tuple[ExportCell, ...]]:
    """Every file participants sent (by email or on their page), oldest first; no bytes."""
    query = (
        select(
            Attachment.created_at,
            Programme.slug,
            Programme.timezone,
            Participant.email,
            Participant.name,
            Action.ref,
            Attachment.filename,
            Attachment.content_type,
            Attachment.size,
            Attachment.sha256,
            Attachment.stored,
            Attachment.inbound_message_id,
            InboundMessage.message_id,
        )
        .select_from(Attachment)
        .join(Participant, Attachment.participant_id == Participant.id)
        .join(Programme, Participant.programme_id == Programme.id)
        .outerjoin(Action, Attachment.action_id == Action.id)
        .outerjoin(InboundMessage, Attachment.inbound_message_id == InboundMessage.id)
        .order_by(Attachment.created_at, Attachment.id)
    )
    for row in _streamed(session, _only(query, programme_ids)):
        at, slug, zone, email, name, ref, filename, content_type, size, sha256 = row[:10]
        stored, inbound_id, message_id = row[10:]
        yield (
            _local(at, zone),
            slug,
            email,
            name,
            ref,
            filename,
            content_type,
            size,
            sha256,
            "yes" if stored else "no: too large",
            "email" if inbound_id is not None else "web",
            message_id,
        )


def _only(query: Select[Any], programme_ids: Sequence[int] | None) -> Select[Any]:
    return query if programme_ids is None else query.where(Programme.id.in_(programme_ids))


def _streamed(session: Session, query: Select[Any]) -> Iterator[tuple[Any, ...]]:
    for row in session.execute(query.execution_options(yield_per=_CHUNK)):
        yield tuple(row)


def _local(moment: object, zone: object) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment.astimezone(ZoneInfo(str(zone)))
