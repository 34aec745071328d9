"""The tracker's tables, as SQLAlchemy 2 typed models.

ORM objects stay in `tracker.db` and `tracker.services`; the pure core works on
frozen records built from them. Every datetime column is UTC-aware
(`UtcDateTime`); enum values are stored as their short strings.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tracker.core.tokens import NONCE_BYTES, NONCE_LENGTH, nonce_from_bytes

# Every text column stores only what every engine can store (no NUL, no lone
# surrogate): in this module, String and Text are the safe types of `types`.
from tracker.db.types import SafeString as String
from tracker.db.types import SafeText as Text
from tracker.db.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), str: String()}


programme_coordinators = Table(
    "programme_coordinators",
    Base.metadata,
    Column("programme_id", ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True),
    Column("coordinator_id", ForeignKey("coordinators.id", ondelete="CASCADE"), primary_key=True),
)


class Programme(Base):
    """A training programme whose participants' action plans are followed up."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(35))
    country: Mapped[str | None] = mapped_column(String(2))
    working_days_only: Mapped[bool] = mapped_column(Boolean, default=True)
    acknowledge_replies: Mapped[bool] = mapped_column(Boolean, default=True)
    weekly_digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The first planning pass that saw the programme: no digest is dated before it.
    first_planned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    coordinators: Mapped[list[Coordinator]] = relationship(
        secondary=programme_coordinators, back_populates="programmes", order_by="Coordinator.email"
    )
    rules: Mapped[list[FollowUpRule]] = relationship(
        back_populates="programme", order_by="FollowUpRule.position", cascade="all, delete-orphan"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="programme", order_by="Participant.id"
    )


class Coordinator(Base):
    """A programme officer: receives escalations and digests, signs in to the dashboard."""

    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    # The dashboard's language ("en", "zh_CN"); None: the browser's preference.
    language: Mapped[str | None] = mapped_column(String(35))
    # Raised by signing out and by a new password: every session of an older epoch is over.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime]

    programmes: Mapped[list[Programme]] = relationship(
        secondary=programme_coordinators, back_populates="coordinators"
    )


class FollowUpRule(Base):
    """One entry of a programme's `follow_up` list; which fields apply depends on `kind`."""

    __tablename__ = "follow_up_rules"
    __table_args__ = (
        UniqueConstraint("programme_id", "position"),
        CheckConstraint(
            "kind IN ('check_in', 'before_due', 'overdue', 'escalate')", name="rule_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    at_time: Mapped[str | None] = mapped_column(String(5))  # local "HH:MM"
    every_count: Mapped[int | None] = mapped_column(Integer)  # check_in: "1 month" -> 1
    every_unit: Mapped[str | None] = mapped_column(String(5))  # check_in: day | week | month
    first_on: Mapped[date | None] = mapped_column(Date)  # check_in
    count: Mapped[int | None] = mapped_column(Integer)  # check_in
    days: Mapped[int | None] = mapped_column(Integer)  # before_due
    every_days: Mapped[int | None] = mapped_column(Integer)  # overdue
    max_count: Mapped[int | None] = mapped_column(Integer)  # overdue
    after_unanswered: Mapped[int | None] = mapped_column(Integer)  # escalate

    programme: Mapped[Programme] = relationship(back_populates="rules")


class Participant(Base):
    """A person whose action plan is followed up, by email."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("programme_id", "email"),
        CheckConstraint(
            "state IN ('active', 'paused', 'opted_out', 'bouncing')", name="participant_state"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(35))  # None: the programme's
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the programme's
    country: Mapped[str | None] = mapped_column(String(2))  # None: the programme's
    state: Mapped[str] = mapped_column(String(12), default="active")
    hard_bounces: Mapped[int] = mapped_column(Integer, default=0)
    last_reply_at: Mapped[datetime | None]
    # A pause with an end: the participant becomes active again at this moment.
    paused_until: Mapped[datetime | None] = mapped_column(index=True)
    # The earliest moment any rule may fire for this participant: a tick reads only rows due.
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    archived_at: Mapped[datetime | None]  # left out of the latest programme file
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    programme: Mapped[Programme] = relationship(back_populates="participants")
    actions: Mapped[list[Action]] = relationship(
        back_populates="participant", order_by="Action.position"
    )

    @property
    def effective_language(self) -> str:
        return self.language or self.programme.language

    @property
    def effective_timezone(self) -> str:
        return self.timezone or self.programme.timezone

    @property
    def effective_country(self) -> str | None:
        return self.country or self.programme.country


class Action(Base):
    """One action of a participant's action plan."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("participant_id", "ref"),
        CheckConstraint(
            "status IN ('not_started', 'in_progress', 'blocked', 'done', 'dropped')",
            name="action_status",
        ),
        CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)", name="percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="not_started")
    percent: Mapped[int | None] = mapped_column(Integer)
    last_update_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    participant: Mapped[Participant] = relationship(back_populates="actions")


def new_reminder_nonce() -> str:
    """Fresh randomness for a reminder's reply token and Message-ID (see core.tokens)."""
    return nonce_from_bytes(secrets.token_bytes(NONCE_BYTES))


class Reminder(Base):
    """An outgoing message: a row of the outbox, unique by its occurrence key."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_state_next_attempt_at", "state", "next_attempt_at"),
        CheckConstraint(
            "state IN ('planned', 'sending', 'sent', 'failed', 'cancelled')", name="reminder_state"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Who it is to or about; None for a programme's digest to its coordinators.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    # Set for digests, which belong to a programme rather than a participant.
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    audience: Mapped[str] = mapped_column(String(12))  # participant | coordinators
    kind: Mapped[str] = mapped_column(String(20))
    local_date: Mapped[date] = mapped_column(Date)
    scheduled_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="planned")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_expires_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]  # when the latest claim to send it was taken
    # Random per row, so tokens and Message-IDs never repeat across databases;
    # None only for rows planned before nonces existed (they keep the older token).
    nonce: Mapped[str | None] = mapped_column(String(NONCE_LENGTH), default=new_reminder_nonce)
    message_id: Mapped[str | None] = mapped_column(String(300), unique=True)
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    participant: Mapped[Participant | None] = relationship()
    programme: Mapped[Programme | None] = relationship()
    items: Mapped[list[ReminderItem]] = relationship(
        back_populates="reminder", order_by="ReminderItem.id", cascade="all, delete-orphan"
    )

    @property
    def about(self) -> Participant:
        """The participant this reminder is to or about (every kind but the digest)."""
        if self.participant is None:
            raise ValueError(f"reminder {self.id} ({self.kind}) belongs to no participant")
        return self.participant


class ReminderItem(Base):
    """One rule occurrence a reminder carries; merged reminders carry several."""

    __tablename__ = "reminder_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(
        ForeignKey("reminders.id", ondelete="CASCADE"), index=True
    )
    occurrence_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL"), index=True
    )

    reminder: Mapped[Reminder] = relationship(back_populates="items")


class InboundMessage(Base):
    """A received message, stored raw before anything interprets it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        CheckConstraint(
            "state IN ('stored', 'processed', 'held', 'failed', 'duplicate', 'discarded')",
            name="inbound_state",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str | None] = mapped_column(String(998), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(12))  # pipe | imap | cli
    received_at: Mapped[datetime]
    from_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(12))  # reply | auto_reply | bounce | other
    state: Mapped[str] = mapped_column(String(12), default="stored", index=True)
    hold_reason: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="SET NULL"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    processed_at: Mapped[datetime | None]
    # The same reply sent again under a new Message-ID: the message it repeats.
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    # SHA-256 of the reply text as read (whitespace folded), to recognise a resent reply.
    reply_digest: Mapped[str | None] = mapped_column(String(64))
    # Refs the reply named that are none of the participant's actions; the
    # acknowledgement, rendered later, says so.
    unknown_refs: Mapped[list[str] | None] = mapped_column(JSON)


class Update(Base):
    """A recorded piece of progress: of one action, or general (no action)."""

    __tablename__ = "updates"
    __table_args__ = (
        Index("ix_updates_participant_id_at", "participant_id", "at"),
        CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)", name="percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL"), index=True
    )
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id", ondelete="SET NULL"))
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True
    )
    # Set for updates given on the participant's personal page (source "web").
    web_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_submissions.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    status: Mapped[str | None] = mapped_column(String(12))
    percent: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(12))  # email | coordinator | web
    recorded_at: Mapped[datetime]
    # The participant asks the coordinators something here (shown in updates and the digest).
    question: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    participant: Mapped[Participant] = relationship()
    action: Mapped[Action | None] = relationship()


class WebSubmission(Base):
    """One submit of a participant's personal page: its updates and files belong to it.

    The page is reached by a link anyone it was forwarded to can use, so the
    submission records that it came through the link, not from the
    participant's mailbox.
    """

    __tablename__ = "web_submissions"
    __table_args__ = (Index("ix_web_submissions_participant_id_at", "participant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    address: Mapped[str] = mapped_column(String(64))  # the client's IP address (rate limit)


class Attachment(Base):
    """A file a participant sent: attached to a reply, or uploaded on their page.

    `content` is None when the file was larger than the limits allow: it is
    noted (name, type, size) but not kept, and the acknowledgement says so.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True
    )
    web_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_submissions.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    stored: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    action: Mapped[Action | None] = relationship()


class Event(Base):
    """The audit log: one row for each thing the tracker did or decided."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(40))  # a stable name: "reminder.sent", ...
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE")
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id", ondelete="SET NULL"))
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    detail: Mapped[str] = mapped_column(Text, default="")
    # Who did it: "coordinator:<email>", "cli" or "system"; None for the tracker's own work.
    actor: Mapped[str | None] = mapped_column(String(340))


class SignInFailure(Base):
    """A failed dashboard sign-in: counted per account and per address to throttle guessing.

    In the database rather than in memory, so that every thread and process of the
    web server sees the same count, and a restart does not reset it.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_email_at", "email", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    email: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))  # the client's IP address
