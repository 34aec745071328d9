"""Outgoing mail: MIME messages built from rendered templates, and the Mailer port.

Everything that reaches a header here may come from data (a participant's
name, a programme title), so no value can add a header of its own: display
names and subjects are flattened to one line, and addresses, Message-IDs and
extra headers that carry a line break or do not parse are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from types import TracebackType
from typing import Protocol, Self

from tracker.errors import TrackerError
from tracker.mail.render import RenderedMail, single_line

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
        "list-unsubscribe",
        "auto-submitted",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ":"
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # no spaces, "<" or ">" inside
_ADDR_SPEC = re.compile(r"[^@\s<>\"(),;:\[\]\\]+@[^@\s<>\"(),;:\[\]\\]+")


class UnsafeHeaderError(ValueError):
    """A header value that would break the message's structure (a line break, bad syntax)."""


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
    """Retrying soon will not help: a 5xx reply, or a server whose TLS certificate is
    not trusted, or that offers no STARTTLS or AUTH (`connection_level` for those)."""


class Mailer(Protocol):
    """Hands built messages to a mail server; one instance per batch."""

    def send(self, message: EmailMessage) -> None:
        """Send one message, or raise TemporaryMailError / PermanentMailError."""

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
    message_id = f"<tracker.{token}@{domain}>"
    if not _MESSAGE_ID.fullmatch(message_id):
        raise UnsafeHeaderError(f"not a usable Message-ID: {message_id!r}")
    return message_id


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
    address = pattern.replace("{token}", token)
    _check_addr_spec(address)
    return address


def unsubscribe_mailto(address: str) -> str:
    """The mailto URI of a List-Unsubscribe header for `address`."""
    _check_addr_spec(address)
    return f"mailto:{address}?subject=unsubscribe"


def build_message(
    *,
    rendered: RenderedMail,
    from_header: str,
    to_name: str,
    to_address: str,
    reply_to: str,
    message_id: str,
    list_unsubscribe: str,
    date: datetime | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) ready for SMTP.

    `from_header` is ``Name <addr>`` (TRACKER_FROM); `reply_to` a bare
    address; `list_unsubscribe` one URI (``mailto:…?subject=unsubscribe``).
    Non-ASCII names and subjects are RFC 2047 encoded by ``policy.SMTP``.
    Raises UnsafeHeaderError for a value that could inject or break a header.
    """
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = _parse_single_address("From", from_header)
    message["To"] = Address(display_name=_display_name(to_name), addr_spec=_addr(to_address))
    message["Reply-To"] = Address(addr_spec=_addr(reply_to))
    message["Subject"] = _one_line_text(rendered.subject)
    message["Date"] = format_datetime(date if date is not None else datetime.now(UTC))
    if not _MESSAGE_ID.fullmatch(message_id):
        raise UnsafeHeaderError(f"not a usable Message-ID: {message_id!r}")
    message["Message-ID"] = message_id
    # RFC 3834: marks the message as sent by a program, so that well-behaved
    # auto-responders stay silent and our own intake never answers it.
    message["Auto-Submitted"] = "auto-generated"
    # Outlook/Exchange: no out-of-office or auto-replies back to a robot.
    # Delivery reports are still wanted: they are how bounces are noticed.
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    message["List-Unsubscribe"] = _list_unsubscribe(list_unsubscribe)
    for name, value in (extra_headers or {}).items():
        _add_extra_header(message, name, value)
    # Non-ASCII bodies go base64 (compact for Chinese) rather than 8bit, so that
    # a server without 8BITMIME, or a relay that strips the eighth bit, cannot
    # garble them.
    message.set_content(
        rendered.text, subtype="plain", charset="utf-8", cte=_body_cte(rendered.text)
    )
    message.add_alternative(
        rendered.html, subtype="html", charset="utf-8", cte=_body_cte(rendered.html)
    )
    return message


def _body_cte(body: str) -> str | None:
    return None if body.isascii() else "base64"


def _one_line_text(text: str) -> str:
    # Names and subjects are data: flatten them (no CR/LF can survive) and turn
    # the other control characters into spaces, rather than refuse to send.
    return single_line("".join(ch if ch.isprintable() else " " for ch in text))


def _display_name(name: str) -> str:
    return _one_line_text(name)


def _check_addr_spec(address: str) -> None:
    if not _ADDR_SPEC.fullmatch(address):
        raise UnsafeHeaderError(f"not a plain address: {address!r}")


def _addr(address: str) -> str:
    _check_addr_spec(address)
    return address


def _parse_single_address(header_name: str, value: str) -> Address:
    if "\r" in value or "\n" in value:
        raise UnsafeHeaderError(f"{header_name} must be one line")
    try:
        parsed = policy.SMTP.header_factory(header_name, value)
        addresses = parsed.addresses
    except (HeaderParseError, AttributeError, IndexError) as exc:
        raise UnsafeHeaderError(f"{header_name}: cannot parse {value!r}") from exc
    if len(addresses) != 1 or parsed.defects:
        raise UnsafeHeaderError(f"{header_name}: expected one address, got {value!r}")
    address: Address = addresses[0]
    _check_addr_spec(address.addr_spec)
    return Address(display_name=_display_name(address.display_name), addr_spec=address.addr_spec)


def _list_unsubscribe(uri: str) -> str:
    uri = uri.strip().removeprefix("<").removesuffix(">")
    if not uri or any(ch.isspace() or ch in "<>," for ch in uri):
        raise UnsafeHeaderError(f"not a usable List-Unsubscribe URI: {uri!r}")
    return f"<{uri}>"


def _add_extra_header(message: EmailMessage, name: str, value: str) -> None:
    if not _HEADER_NAME.fullmatch(name):
        raise UnsafeHeaderError(f"not a header name: {name!r}")
    if name.lower() in _RESERVED_HEADERS:
        raise UnsafeHeaderError(f"{name} is set by build_message, not by extra_headers")
    if any(not ch.isprintable() and ch != "\t" for ch in value):
        raise UnsafeHeaderError(f"{name} must be one line of printable text")
    message[name] = value
