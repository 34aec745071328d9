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
from tracker.inbound.grammar import read_updates
from tracker.inbound.language import detect_language
from tracker.inbound.mime import addresses_in, body_text, header_text, header_values, read_message
from tracker.inbound.quotes import strip_quoted_text
from tracker.inbound.results import ActionUpdate, ParsedMessage

__all__ = ["ActionUpdate", "ParsedMessage", "parse_message", "read_updates", "to_contract_json"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLY_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(?:re|aw|sv|vs|antw|odp|ответ|回复|回覆|答复|答覆|覆|返信)\s*[:：]",
    re.IGNORECASE,
)
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")


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


def _read(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    """Steps of `parse_message` that may meet hostile input; the caller catches."""
    message = read_message(raw)
    senders = addresses_in(header_values(message, "From"))
    recipients: list[str] = []
    for name in _RECIPIENT_HEADERS:
        for _, address in addresses_in(header_values(message, name)):
            if address not in recipients:
                recipients.append(address)
    subject = header_text(message, "Subject") or ""
    in_reply_to_ids = _message_ids(header_text(message, "In-Reply-To"))
    references = _message_ids(" ".join(header_values(message, "References")))
    token = _reply_token(message)
    has_reply_markers = bool(
        in_reply_to_ids or references or token or _REPLY_SUBJECT.match(subject)
    )
    classification = classify_message(message, has_reply_markers=has_reply_markers)
    body, was_html = body_text(message)
    reply_text = strip_quoted_text(body)
    updates: tuple[ActionUpdate, ...] = ()
    general_note = ""
    if classification.kind in (MessageKind.REPLY, MessageKind.OTHER):
        updates, general_note = read_updates(reply_text, known_refs)
    message_ids = _message_ids(header_text(message, "Message-ID"))
    return ParsedMessage(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=references,
        from_address=senders[0][1] if senders else None,
        from_name=(senders[0][0] or None) if senders else None,
        recipients=tuple(recipients),
        subject=subject,
        date=_message_date(header_text(message, "Date")),
        kind=classification.kind,
        kind_reason=classification.reason,
        language=detect_language(reply_text or subject),
        reply_text=reply_text,
        updates=updates,
        general_note=general_note,
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

    1. Refuse messages over `max_bytes` (kind other, problem "too_large").
    2. Parse the MIME structure and decode headers whatever their charset.
    3. Classify: bounce, auto-reply, reply or other (`classify_message`).
    4. Take the body a person wrote (text/plain, else HTML as text), strip
       quoted mail, signature and device trailers (`strip_quoted_text`).
    5. For replies and other human mail, read the action updates in it.
    Anything unreadable becomes kind other with problem "unreadable".
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        return ParsedMessage(problem="unreadable", kind_reason="not bytes")
    if len(raw) > max_bytes:
        return ParsedMessage(problem="too_large", kind_reason=f"over {max_bytes} bytes")
    try:
        return _read(bytes(raw), known_refs)
    except Exception:  # hostile input must never stop ingestion; log it for a fix
        logger.warning("action=parse_failed size=%d", len(raw), exc_info=True)
        return ParsedMessage(problem="unreadable", kind_reason="message could not be parsed")


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
