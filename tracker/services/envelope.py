"""What a message's headers say, read before (and without) its body.

Intake needs a few header facts before the reader runs: the Message-ID and
sender to store and list the message, and the reply token and thread that
name the reminder it answers (whose participant's refs the reader is then
given). Only the header block is read, at most `HEADER_BYTES` of it, leniently:
a malformed header gives None, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from tracker.core.tokens import find_token
from tracker.inbound.mime import addresses_in, header_text, header_values, read_message

HEADER_BYTES = 256 * 1024  # headers live at the top; never parse a huge body to list it
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
_DISPLAY_CHARACTERS = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """The header facts of one message; None (or empty) where a header is missing or unreadable."""

    message_id: str | None = None
    from_address: str | None = None
    subject: str | None = None
    token: str | None = None  # not yet verified
    thread: tuple[str, ...] = ()  # Message-IDs in In-Reply-To, then References
    shown: tuple[tuple[str, str], ...] = ()  # From, To, Cc, Date, Subject as a person reads them


def read_envelope(raw: bytes) -> Envelope:
    """The header facts of `raw`, read leniently from its first `HEADER_BYTES`."""
    try:
        message = read_message(_header_block(raw))
        return _envelope_of(message)
    except Exception:  # storage and matching must never fail on a malformed header
        return Envelope()


def _header_block(raw: bytes) -> bytes:
    head = raw[:HEADER_BYTES]
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end != -1:
            return head[: end + len(separator)]
    return head


def _envelope_of(message: Message) -> Envelope:
    # Message-IDs as written, never decoded: an encoded-word is not an id.
    message_ids = _MESSAGE_ID.findall(" ".join(_raw_values(message, "Message-ID"))[:4096])
    senders = addresses_in([header_text(message, "From") or ""])
    thread = tuple(
        _MESSAGE_ID.findall(" ".join(_raw_values(message, "In-Reply-To")))
        + _MESSAGE_ID.findall(" ".join(_raw_values(message, "References")))
    )
    return Envelope(
        message_id=message_ids[0][:998] if message_ids else None,
        from_address=senders[0][1][:320] if senders else None,
        subject=header_text(message, "Subject"),
        token=_reply_token(message),
        thread=thread,
        shown=tuple(
            (name, _shortened(value))
            for name in ("From", "To", "Cc", "Date", "Subject")
            if (value := ", ".join(header_values(message, name)))
        ),
    )


def _raw_values(message: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [v for k, v in message.raw_items() if k.lower() == wanted and isinstance(v, str)]


def _reply_token(message: Message) -> str | None:
    """The first token-shaped string in the recipient headers, then in the threading headers.

    The same places, in the same order, as the reader looks (`tracker parse`
    shows the same token).
    """
    for name in (*_RECIPIENT_HEADERS, "In-Reply-To", "References"):
        for value in header_values(message, name):
            token = find_token(value)
            if token is not None:
                return token
    return None


def _shortened(value: str) -> str:
    if len(value) <= _DISPLAY_CHARACTERS:
        return value
    rest = len(value) - _DISPLAY_CHARACTERS
    return f"{value[:_DISPLAY_CHARACTERS]}… ({rest} more characters)"
