"""What mail templates are given: one frozen record per kind of message.

The services build these from database rows (`tracker.services.presenting`);
`tracker.mail.render` turns them into subject, text and HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.core.model import ActionStatus, ParticipantState, ReminderKind


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionLine:
    """One action as a message shows it: what it is and where it last stood."""

    ref: str
    title: str
    due: date | None
    status: ActionStatus
    percent: int | None = None
    note: str = ""
    updated_on: date | None = None  # when the status above was last reported; None: never


@dataclass(frozen=True, slots=True, kw_only=True)
class ReminderContext:
    """A reminder to a participant (check-in, before due, overdue; merged ones too).

    `kind` is the main reason the message goes out and picks the template;
    `focus_refs` names the actions the reminder is about (due soon, overdue),
    while `actions` lists every open action so one reply can update them all.
    """

    kind: ReminderKind
    language: str
    as_of: date  # the participant's local date of sending; "overdue" is relative to it
    participant_name: str
    programme_name: str
    organisation: str | None
    actions: tuple[ActionLine, ...]
    coordinator_names: tuple[str, ...]
    opt_out_url_or_address: str
    focus_refs: tuple[str, ...] = ()
    # The participant's personal update page (TRACKER_PUBLIC_URL set), else None.
    update_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationContext:
    """A note to the coordinators about a participant who stopped answering."""

    language: str
    as_of: date
    programme_name: str
    coordinator_names: tuple[str, ...]
    participant_name: str
    participant_email: str
    organisation: str | None
    unanswered_count: int
    unanswered_since: date  # the date of the first reminder left unanswered
    last_reply_on: date | None
    actions: tuple[ActionLine, ...]
    dashboard_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedUpdate:
    """One update as recorded: of an action (`ref` set) or general (`ref` None)."""

    ref: str | None
    title: str
    status: ActionStatus | None
    percent: int | None
    note: str = ""
    question: bool = False  # the participant asks the coordinators something here


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgementContext:
    """The short answer to a participant's reply, echoing what was recorded."""

    language: str
    participant_name: str
    programme_name: str
    updates: tuple[RecordedUpdate, ...]
    unknown_refs: tuple[str, ...] = ()  # refs the reply named that match no action
    known_refs: tuple[str, ...] = ()  # the participant's actions, to name beside unknown refs
    coordinator_names: tuple[str, ...]
    opt_out_url_or_address: str
    files: tuple[str, ...] = ()  # names of the files kept
    files_not_kept: tuple[str, ...] = ()  # names of the files over the size limits
    # A fresh personal page link (TRACKER_PUBLIC_URL set): a reply is how to get one.
    update_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestParticipant:
    """One participant in the coordinators' digest."""

    name: str
    email: str
    organisation: str | None
    state: ParticipantState
    last_reply_on: date | None
    actions: tuple[ActionLine, ...]  # all actions, open or not
    updates: tuple[RecordedUpdate, ...] = ()  # recorded during the digest's period


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestQuestion:
    """A question a participant asked during the digest's period, for the coordinators."""

    name: str
    organisation: str | None
    asked_on: date
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UndeliveredMessage:
    """A message to or about a participant that failed, or waits to be tried again."""

    participant_name: str
    participant_email: str
    kind: ReminderKind
    on: date  # when it was last tried, in the programme's time zone
    error: str
    retrying: bool  # True: tried again later; False: given up


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestContext:
    """The coordinators' weekly digest of one programme."""

    language: str
    programme_name: str
    coordinator_names: tuple[str, ...]
    period_start: date
    period_end: date  # inclusive
    participants: tuple[DigestParticipant, ...]
    held_for_review: int = 0
    undelivered: tuple[UndeliveredMessage, ...] = ()  # failed that week, or still retrying
    dashboard_url: str | None = None
    questions: tuple[DigestQuestion, ...] = ()  # asked during the period, oldest first


MailContext = ReminderContext | EscalationContext | AcknowledgementContext | DigestContext
