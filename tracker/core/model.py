"""The words the whole tracker shares: enums and small immutable records.

Everything here is plain data. The database layer maps these values onto
columns; the pure core (rules, replies, tokens) computes with them.
"""

from __future__ import annotations

from enum import StrEnum


class ActionStatus(StrEnum):
    """Where an action stands, as a participant or coordinator reported it."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def is_open(self) -> bool:
        """An open action is still chased by reminders."""
        return self not in (ActionStatus.DONE, ActionStatus.DROPPED)


class ParticipantState(StrEnum):
    """Whether a participant is to be emailed at all."""

    ACTIVE = "active"
    PAUSED = "paused"
    OPTED_OUT = "opted_out"
    BOUNCING = "bouncing"

    @property
    def receives_reminders(self) -> bool:
        return self is ParticipantState.ACTIVE


class RuleKind(StrEnum):
    """The follow-up rules of a programme file's `follow_up` list."""

    CHECK_IN = "check_in"
    BEFORE_DUE = "before_due"
    OVERDUE = "overdue"
    ESCALATE = "escalate"


class ReminderKind(StrEnum):
    """What an outgoing message is; names the template set that renders it."""

    CHECK_IN = "check_in"
    BEFORE_DUE = "before_due"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    ACKNOWLEDGEMENT = "acknowledgement"
    DIGEST = "digest"


class ReminderState(StrEnum):
    """The life of an outbox row."""

    PLANNED = "planned"  # due; waiting for a sender to claim it
    SENDING = "sending"  # claimed under a lease; Message-ID recorded
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # permanently refused, or retries exhausted
    CANCELLED = "cancelled"  # no longer wanted (participant opted out, action closed)


class MessageKind(StrEnum):
    """What an inbound message turned out to be."""

    REPLY = "reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    OTHER = "other"


class InboundState(StrEnum):
    """The life of a stored inbound message."""

    STORED = "stored"  # raw bytes committed; not yet interpreted
    PROCESSED = "processed"  # interpreted and applied (or recorded as not an answer)
    HELD = "held"  # waiting for a coordinator (see HoldReason)
    FAILED = "failed"  # processing raised (a bug, a database error): the reason is kept
    DUPLICATE = "duplicate"  # the same reply again under a new Message-ID: nothing recorded
    DISCARDED = "discarded"  # a coordinator threw it away


class HoldReason(StrEnum):
    """Why an inbound message waits for a coordinator instead of being applied."""

    SENDER_MISMATCH = "sender_mismatch"
    BAD_TOKEN = "bad_token"
    UNMATCHED = "unmatched"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    TOO_COMPLEX = "too_complex"  # beyond the reader's bounds or its time budget
    OPTED_OUT = "opted_out"  # the participant opted out: a coordinator decides if it counts


class UpdateSource(StrEnum):
    """Where a recorded update came from."""

    EMAIL = "email"
    COORDINATOR = "coordinator"
    WEB = "web"
