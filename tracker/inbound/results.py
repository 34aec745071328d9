"""What reading one inbound message yields: immutable records, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker.core.model import ActionStatus, MessageKind


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionUpdate:
    """One line of a reply that names an action: "2：进行中 60%，等待预算批复"."""

    ref: str
    status: ActionStatus | None
    percent: int | None
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedMessage:
    """Everything the tracker reads from one raw message; see `parse.parse_message`.

    `from_address` is read leniently, for listing. `sender` is the strictly
    parsed addr-spec of exactly one From mailbox (Sender, if present, agreeing),
    or None with `sender_problem` saying why in words a coordinator understands.
    `problem` ("too_large", "unreadable", "too_complex") always comes with a
    `kind_reason` that names the input's defect.
    `general_note` is what the participant wrote outside ref lines, without
    greetings and closings (`reply_text` keeps them); `questions` are their own
    lines that ask something; `unknown_refs` are refs that open a line but are
    not among the known refs (only when known refs were given), and their lines
    are in no note.
    """

    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    from_address: str | None = None
    from_name: str | None = None
    recipients: tuple[str, ...] = ()
    subject: str = ""
    date: datetime | None = None
    kind: MessageKind = MessageKind.OTHER
    kind_reason: str = ""
    problem: str | None = None
    language: str = "und"
    reply_text: str = ""
    updates: tuple[ActionUpdate, ...] = ()
    general_note: str = ""
    token: str | None = None
    bounced_recipients: tuple[str, ...] = ()
    bounce_is_temporary: bool = False
    body_was_html: bool = False
    sender: str | None = None
    sender_problem: str | None = None
    questions: tuple[str, ...] = ()
    unknown_refs: tuple[str, ...] = ()
