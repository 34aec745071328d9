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
    """Everything the tracker reads from one raw message; see `parse.parse_message`."""

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
