"""Keeping the files participants send, within limits, and handing them to coordinators.

Files come from email replies (`tracker.inbound.attachments`) and from the
personal page's uploads. Each is stored in the database with its name, type,
size and SHA-256. A file over the per-file limit, or one that would take the
message (or page submit) past its total, is noted (name, type, size, hash)
but its bytes are not kept; the acknowledgement names it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, undefer

from tracker.config import DEFAULT_MAX_ATTACHMENT_MB, DEFAULT_MAX_MESSAGE_ATTACHMENTS_MB, Settings
from tracker.db.orm import Action, Attachment, Participant
from tracker.inbound.attachments import AttachedFile

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """The largest file kept, and the most kept from one message or one page submit."""

    max_file_bytes: int = DEFAULT_MAX_ATTACHMENT_MB * _MB
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_ATTACHMENTS_MB * _MB

    @classmethod
    def from_settings(cls, settings: Settings) -> AttachmentLimits:
        return cls(
            max_file_bytes=settings.max_attachment_mb * _MB,
            max_message_bytes=settings.max_message_attachments_mb * _MB,
        )


@dataclass(slots=True)
class KeptFiles:
    """What became of the files of one message or submit, by name."""

    kept: list[str] = field(default_factory=list)
    not_kept: list[str] = field(default_factory=list)


def keep_files(
    participant: Participant,
    files: Sequence[tuple[AttachedFile, Action | None]],
    *,
    limits: AttachmentLimits,
    session: Session,
    now: datetime,
    inbound_message_id: int | None = None,
    web_submission_id: int | None = None,
) -> KeptFiles:
    """Store `files` (each with the action it is about, if any) for `participant`.

    Files are taken in order; each is kept while it fits both limits, else
    noted without its bytes. Empty files are ignored.
    """
    outcome = KeptFiles()
    budget = limits.max_message_bytes
    for file, action in files:
        size = len(file.data)
        if size == 0:
            continue
        fits = size <= limits.max_file_bytes and size <= budget
        if fits:
            budget -= size
        session.add(
            Attachment(
                participant_id=participant.id,
                inbound_message_id=inbound_message_id,
                web_submission_id=web_submission_id,
                action_id=action.id if action is not None else None,
                filename=file.filename,
                content_type=file.content_type,
                size=size,
                sha256=hashlib.sha256(file.data).hexdigest(),
                content=file.data if fits else None,
                stored=fits,
                created_at=now,
            )
        )
        (outcome.kept if fits else outcome.not_kept).append(file.filename)
    session.flush()
    return outcome


def forget_files(inbound_message_id: int, *, session: Session) -> None:
    """Reprocessing a message: the files it brought are read again from it."""
    session.execute(delete(Attachment).where(Attachment.inbound_message_id == inbound_message_id))


def files_of(
    *,
    session: Session,
    inbound_message_id: int | None = None,
    web_submission_id: int | None = None,
) -> list[Attachment]:
    """The files of one message or one page submit, in the order they came."""
    query = select(Attachment).order_by(Attachment.id)
    if inbound_message_id is not None:
        query = query.where(Attachment.inbound_message_id == inbound_message_id)
    elif web_submission_id is not None:
        query = query.where(Attachment.web_submission_id == web_submission_id)
    else:
        return []
    return list(session.scalars(query))


def participant_files(participant: Participant, *, session: Session) -> list[Attachment]:
    """Every file a participant sent, newest first (without their bytes)."""
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.participant_id == participant.id)
            .order_by(Attachment.created_at.desc(), Attachment.id.desc())
        )
    )


def file_for_download(
    participant: Participant, attachment_id: int, *, session: Session
) -> Attachment | None:
    """One stored file of `participant`, with its bytes; None when there is none such."""
    attachment = session.scalar(
        select(Attachment)
        .options(undefer(Attachment.content))
        .where(
            Attachment.id == attachment_id,
            Attachment.participant_id == participant.id,
            Attachment.stored.is_(True),
        )
    )
    return attachment if attachment is not None and attachment.content is not None else None
