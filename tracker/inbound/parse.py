"""The public entry point: raw message bytes in, a `ParsedMessage` out. Pure, never raises."""

from __future__ import annotations

import email.utils
import logging
import re
from collections.abc import Collection
from datetime import UTC, datetime
from email.message import Message

from tracker.core.model import MessageKind
from tracker.core.tokens import find_token
from tracker.inbound.classify import classify_message
from tracker.inbound.grammar import ReplyReading, read_reply, read_updates
from tracker.inbound.language import detect_language
from tracker.inbound.limits import (
    BeyondBounds,
    address_field_defect,
    raw_defect,
    shorten_blank_runs,
    text_defect,
    tree_defect,
)
from tracker.inbound.mime import (
    addresses_in,
    body_text,
    header_text,
    header_values,
    raw_header_values,
    read_message,
)
from tracker.inbound.prose import questions_in
from tracker.inbound.quotes import strip_quoted_text
from tracker.inbound.results import ActionUpdate, ParsedMessage
from tracker.inbound.senders import read_sender

__all__ = [
    "READER_FAILED",
    "ActionUpdate",
    "ParsedMessage",
    "parse_message",
    "read_updates",
    "reading_details",
    "to_contract_json",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLY_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(?:re|aw|sv|vs|antw|odp|ответ|回复|回覆|答复|答覆|覆|返信)\s*[:：]",
    re.IGNORECASE,
)
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
_ADDRESS_HEADERS = ("From", "Sender", "Reply-To", *_RECIPIENT_HEADERS)
# The reason given when the reader itself failed: a fault of the tracker, not of the message.
READER_FAILED = "the tracker could not read this message (a fault in the tracker, logged)"


def _message_ids(value: str | None) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(value or ""))


def _message_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" means the zone is unknown; UTC is the honest reading of the instant.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _reply_token(message: Message) -> str | None:
    """The first token-shaped string in the recipient headers, then in the threading headers."""
    for name in (*_RECIPIENT_HEADERS, "In-Reply-To", "References"):
        for value in header_values(message, name):
            token = find_token(value)
            if token is not None:
                return token
    return None


def _recipients(message: Message) -> tuple[str, ...]:
    """Every recipient address, in order of first appearance (a dict keeps it linear)."""
    found: dict[str, None] = {}
    for name in _RECIPIENT_HEADERS:
        for _, address in addresses_in(header_values(message, name)):
            found.setdefault(address, None)
    return tuple(found)


def _address_defect(message: Message) -> str | None:
    for name in _ADDRESS_HEADERS:
        for value in raw_header_values(message, name):
            defect = address_field_defect(name, value)
            if defect is not None:
                return defect
    return None


def _not_read(problem: str, reason: str) -> ParsedMessage:
    """A message the reader did not read: the problem and its reason, nothing else."""
    return ParsedMessage(
        problem=problem, kind_reason=reason, sender_problem=f"the message was not read: {reason}"
    )


def _too_complex(message: Message | None, reason: str) -> ParsedMessage:
    """A message beyond the reader's bounds: what is safe to show, and the defect."""
    if message is None:
        return _not_read("too_complex", reason)
    message_ids = _message_ids(header_text(message, "Message-ID"))
    return ParsedMessage(
        message_id=message_ids[0] if message_ids else None,
        subject=header_text(message, "Subject") or "",
        problem="too_complex",
        kind_reason=reason,
        sender_problem="the message was not read: " + reason,
    )


def _read(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    """Steps 2-6 of `parse_message`."""
    raw = shorten_blank_runs(raw)
    defect = raw_defect(raw)
    if defect is not None:
        return _too_complex(None, defect)
    message = read_message(raw)
    if not message.keys():
        return _not_read("unreadable", "no header fields: not an email")
    defect = tree_defect(message) or _address_defect(message)
    if defect is not None:
        return _too_complex(message, defect)
    senders = addresses_in(header_values(message, "From"))
    sender = read_sender(message)
    subject = header_text(message, "Subject") or ""
    in_reply_to_ids = _message_ids(header_text(message, "In-Reply-To"))
    references = _message_ids(" ".join(header_values(message, "References")))
    token = _reply_token(message)
    has_reply_markers = bool(
        in_reply_to_ids or references or token or _REPLY_SUBJECT.match(subject)
    )
    classification = classify_message(message, has_reply_markers=has_reply_markers)
    body, was_html = body_text(message)
    defect = text_defect(body)
    if defect is not None:
        return _too_complex(message, defect)
    reply_text = strip_quoted_text(body)
    reading = ReplyReading(updates=(), general_note="", unknown_refs=())
    questions: tuple[str, ...] = ()
    if classification.kind in (MessageKind.REPLY, MessageKind.OTHER):
        reading = read_reply(reply_text, known_refs)
        questions = questions_in(reply_text)
    message_ids = _message_ids(header_text(message, "Message-ID"))
    return ParsedMessage(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=references,
        from_address=senders[0][1] if senders else None,
        from_name=(senders[0][0] or None) if senders else None,
        sender=sender.address,
        sender_problem=sender.problem,
        recipients=_recipients(message),
        subject=subject,
        date=_message_date(header_text(message, "Date")),
        kind=classification.kind,
        kind_reason=classification.reason,
        language=detect_language(reply_text or subject),
        reply_text=reply_text,
        updates=reading.updates,
        general_note=reading.general_note,
        unknown_refs=reading.unknown_refs,
        questions=questions,
        token=token,
        bounced_recipients=classification.bounced_recipients,
        bounce_is_temporary=classification.temporary,
        body_was_html=was_html,
    )


def parse_message(
    raw: bytes,
    *,
    known_refs: Collection[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedMessage:
    """Everything the tracker reads in one raw RFC 5322 message; never raises.

    1. Refuse messages over `max_bytes` (problem "too_large").
    2. Check the bounds (`limits`): header fields, MIME nesting and parts,
       addresses per field; beyond them, problem "too_complex" with the defect.
    3. Parse the MIME structure and decode headers whatever their charset;
       read the sender strictly (`senders.read_sender`).
    4. Classify: bounce, auto-reply, reply or other (`classify_message`).
    5. Take the body a person wrote (text/plain, else HTML as text), strip
       quoted mail, signature and device trailers (`strip_quoted_text`).
    6. For replies and other human mail, read the action updates, unknown
       refs, general note and questions in it.
    Input that is not a message at all is "unreadable", with the reason. A
    failure of the reader itself (a bug, not a defect of the input) is logged
    and also held as "unreadable", with `READER_FAILED` as the reason, so that
    the message waits for `tracker reprocess` after the fix.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        return _not_read("unreadable", "not bytes")
    if len(raw) > max_bytes:
        return _not_read("too_large", f"over {max_bytes} bytes")
    if not bytes(raw).strip():
        return _not_read("unreadable", "the message is empty")
    try:
        return _read(bytes(raw), known_refs)
    except BeyondBounds as beyond:
        return _too_complex(None, beyond.reason)
    except Exception:  # a bug of ours: never lose the message over it, but say so loudly
        logger.exception("action=parse_failed size=%d", len(raw))
        return _not_read("unreadable", READER_FAILED)


def to_contract_json(parsed: ParsedMessage) -> dict[str, object]:
    """The `tracker parse --json` document of the CONTRACT."""
    return {
        "kind": parsed.kind.value,
        "language": parsed.language,
        "reply_text": parsed.reply_text,
        "updates": [
            {
                "ref": update.ref,
                "status": update.status.value if update.status is not None else None,
                "percent": update.percent,
                "note": update.note,
            }
            for update in parsed.updates
        ],
        "token": parsed.token,
    }


def reading_details(parsed: ParsedMessage) -> dict[str, object]:
    """What `tracker parse --json` adds to the contract's document: the rest of the reading."""
    return {
        "general_note": parsed.general_note,
        "unknown_refs": list(parsed.unknown_refs),
        "questions": list(parsed.questions),
        "sender": parsed.sender,
        "sender_problem": parsed.sender_problem,
        "problem": parsed.problem,
        "problem_reason": parsed.kind_reason if parsed.problem else None,
    }
