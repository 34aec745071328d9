"""Outgoing mail: messages built from rendered templates, and the Mailer port.

Everything that reaches a header here may come from data (a participant's
name, a programme title, the Message-ID of a reply), so no value can add a
header of its own: `tracker.mail.headers` makes text safe, writes structured
headers verbatim, and every built message's header block is parsed back
before it may leave (`verify_headers`). The MIME parts are written by
`tracker.mail.message_bytes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import format_datetime, getaddresses, parseaddr
from types import TracebackType
from typing import Protocol, Self

from tracker.errors import TrackerError
from tracker.mail.headers import (
    Mailbox,
    MeantHeaders,
    UnsafeHeaderError,
    check_structured,
    fold_at_whitespace,
    format_mailboxes,
    format_text,
    header_text,
    list_unsubscribe,
    mailto_uri,
    require_ascii_address,
    require_message_id,
    safe_message_id,
    verify_headers,
)
from tracker.mail.message_bytes import LINESEP, MIME_HEADERS, OutgoingMail, alternative
from tracker.mail.render import RenderedMail

__all__ = [
    "MailError",
    "Mailbox",
    "Mailer",
    "OutgoingMail",
    "PermanentMailError",
    "SmtpConfigurationError",
    "TemporaryMailError",
    "UnsafeHeaderError",
    "build_message",
    "make_message_id",
    "reply_address",
    "unsubscribe_mailto",
]

# Headers build_message sets itself; extra_headers may not replace them.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "auto-submitted",
        "mime-version",
    }
)


class MailError(TrackerError):
    """The SMTP server or connection refused or failed to take a message.

    `code` is the SMTP reply code when the server gave one. `connection_level`
    is true when the failure concerns the server, connection or credentials
    rather than this message: the rest of a batch would fail the same way.
    """

    def __init__(self, message: str, *, code: int | None = None, connection_level: bool) -> None:
        super().__init__(message)
        self.code = code
        self.connection_level = connection_level


class TemporaryMailError(MailError):
    """Worth retrying later: a 4xx reply, a refused or dropped connection, a timeout."""


class PermanentMailError(MailError):
    """Retrying soon will not help: a 5xx reply to this message."""


class SmtpConfigurationError(MailError):
    """A settings mistake: every message would fail the same way until someone acts.

    A server that wants AUTH, STARTTLS against a server without it, smtps://
    against a plain port, a wrong password, an untrusted certificate, a
    refused sender. The message starts with the setting to fix (`setting`);
    a send pass stops at once and leaves its rows as they were.
    """

    def __init__(self, message: str, *, setting: str, code: int | None = None) -> None:
        super().__init__(message, code=code, connection_level=True)
        self.setting = setting


class Mailer(Protocol):
    """Hands built messages to a mail server; one instance per batch."""

    def send(self, message: OutgoingMail) -> None:
        """Send one message, or raise TemporaryMailError, PermanentMailError or
        SmtpConfigurationError."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def make_message_id(token: str, domain: str) -> str:
    """Our Message-ID for a reminder: ``<tracker.{token}@{domain}>``.

    Replies quote it in In-Reply-To/References, the second way a reply finds
    its reminder when a client drops the Reply-To plus-address.
    """
    return require_message_id(f"<tracker.{token}@{domain}>")


def reply_address(pattern: str | None, token: str, *, from_address: str | None = None) -> str:
    """The Reply-To address carrying `token`.

    `pattern` is TRACKER_REPLY_ADDRESS with its ``{token}`` placeholder; when
    it is None the From address is plus-addressed (``local+{token}@domain``).
    """
    if pattern is None:
        if from_address is None:
            raise ValueError("a reply address needs a pattern or a From address")
        local, at, domain = from_address.partition("@")
        if not at:
            raise UnsafeHeaderError(f"not an address: {from_address!r}")
        pattern = f"{local}+{{token}}@{domain}"
    if "{token}" not in pattern:
        raise ValueError("the reply address pattern has no {token}")
    return require_ascii_address(pattern.replace("{token}", token))


def unsubscribe_mailto(address: str) -> str:
    """The mailto URI of a List-Unsubscribe header for `address`."""
    return mailto_uri(address, subject="unsubscribe")


def build_message(
    *,
    rendered: RenderedMail,
    from_header: str,
    to: Sequence[Mailbox],
    reply_to: str,
    message_id: str,
    list_unsubscribe_uris: Sequence[str],
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    date: datetime | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> OutgoingMail:
    """A multipart/alternative message (text, then HTML) ready for SMTP.

    `from_header` is ``Name <addr>`` (TRACKER_FROM); `to` one or more
    mailboxes; `reply_to` a bare address; `list_unsubscribe_uris` the
    ``mailto:``/``https:`` URIs, most preferred first (an https one adds
    RFC 8058's List-Unsubscribe-Post). `in_reply_to` and `references` are
    echoed only when they are strict Message-IDs; others are left out.
    Names and subjects are made safe (`header_text`) and RFC 2047 encoded
    when not ASCII. Raises UnsafeHeaderError for our own value that could
    break a header, or when the serialised headers do not read back as meant.
    The envelope is the From address and the To addresses.
    """
    if not to:
        raise UnsafeHeaderError("a message needs at least one recipient")
    sender = _parse_single_address("From", from_header)
    senders = ((sender.display_name, sender.addr_spec),)
    recipients = tuple((header_text(r.name), require_ascii_address(r.address)) for r in to)
    subject = header_text(rendered.subject)
    headers = [
        ("From", format_mailboxes(senders)),
        ("To", format_mailboxes(recipients)),
        ("Reply-To", require_ascii_address(reply_to)),
        ("Subject", format_text(subject)),
        ("Date", format_datetime(date if date is not None else datetime.now(UTC))),
        ("Message-ID", require_message_id(message_id)),
    ]
    thread = [i for i in (safe_message_id(m) for m in references) if i is not None]
    parent = safe_message_id(in_reply_to)
    if parent is not None:
        headers.append(("In-Reply-To", parent))
    if thread:
        headers.append(("References", " ".join(dict.fromkeys(thread))))
    # RFC 3834: marks the message as sent by a program, so that well-behaved
    # auto-responders stay silent and our own intake never answers it.
    headers.append(("Auto-Submitted", "auto-generated"))
    # Outlook/Exchange: no out-of-office or auto-replies back to a robot.
    # Delivery reports are still wanted: they are how bounces are noticed.
    headers.append(("X-Auto-Response-Suppress", "OOF, AutoReply"))
    unsubscribe, one_click = list_unsubscribe(list_unsubscribe_uris)
    headers.append(("List-Unsubscribe", unsubscribe))
    if one_click is not None:
        headers.append(("List-Unsubscribe-Post", one_click))
    for name, value in (extra_headers or {}).items():
        if name.lower() in _RESERVED_HEADERS or name.lower().startswith("content-"):
            raise UnsafeHeaderError(f"{name} is set by build_message, not by extra_headers")
        headers.append((name, check_structured(name, value)))
    # Non-ASCII bodies go base64 (compact for Chinese) rather than 8bit, so that
    # a server without 8BITMIME, or a relay that strips the eighth bit, cannot
    # garble them (`encode_text`).
    mime_headers, body = alternative(rendered.text, rendered.html)
    head = "".join(fold_at_whitespace(name, value) for name, value in headers) + mime_headers
    texts = dict(headers)
    verify_headers(
        head.encode("ascii"),
        MeantHeaders(
            names=(*(name for name, _ in headers), *MIME_HEADERS),
            addresses={"From": senders, "To": recipients},
            texts={
                "Subject": subject,
                "Message-ID": message_id,
                "Reply-To": reply_to,
                "List-Unsubscribe": unsubscribe,
                **{name: texts[name] for name in ("In-Reply-To", "References") if name in texts},
            },
        ),
    )
    return OutgoingMail(
        raw=f"{head}{LINESEP}{body}".encode("ascii"),
        sender=sender.addr_spec,
        recipients=tuple(address for _, address in recipients),
        message_id=message_id,
    )


def _parse_single_address(header_name: str, value: str) -> Address:
    """One ``Name <addr>`` (TRACKER_FROM), read without decoding encoded-words."""
    if "\r" in value or "\n" in value:
        raise UnsafeHeaderError(f"{header_name} must be one line")
    if len(getaddresses([value])) != 1:
        raise UnsafeHeaderError(f"{header_name}: expected one address, got {value!r}")
    name, address = parseaddr(value)
    if not address:
        raise UnsafeHeaderError(f"{header_name}: cannot parse {value!r}")
    return Address(display_name=header_text(name), addr_spec=require_ascii_address(address))
