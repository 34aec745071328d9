"""Header safety for outgoing mail: what data may put in a header, and proof of the result.

Three rules keep data from changing a message's structure:

1. **Text from data** (display names, subjects built from titles and
   programme names) is flattened by `header_text`: control, format and
   line-separator characters become spaces, whitespace runs collapse, and
   the encoded-word opener ``=?`` is broken to ``= ?``. Python's `email`
   package decodes encoded-words when it parses a value it is given, so an
   intact ``=?utf-8?q?=0D=0A?=`` in a name would become a real CR LF on the
   wire.
2. **Every header is written by us**, as printable ASCII, verbatim, folded
   only at whitespace (`fold_at_whitespace`). (The `email` header registry
   would RFC 2047-encode a long token of a structured header (Message-ID,
   In-Reply-To, References, Reply-To, List-Unsubscribe), which mail programs
   then ignore, and it drops the quotes of a long quoted display name when it
   folds one.) Display names and subjects are encoded here
   (`format_mailboxes`, `format_text`): atoms or a quoted string when ASCII,
   RFC 2047 words otherwise. Message-IDs from outside are echoed only when
   they match the strict ``<local@domain>`` grammar of `safe_message_id`.
3. **Proof**: `verify_headers` parses the header block back, as SMTP will
   send it, and compares the header names and values with what was meant. It
   costs a header parse per message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from urllib.parse import quote

MAX_LINE = 78  # RFC 5322's recommended line length, where folding starts
HARD_LIMIT = 998  # RFC 5322's limit on a line, without CRLF
MAX_MESSAGE_ID = 255

_ENCODED_WORD_LENGTH = 75  # RFC 2047's limit on one encoded-word
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ":"
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_MESSAGE_ID = re.compile(rf"<{_DOT_ATOM}@(?:{_DOT_ATOM}|\[[!-Z^-~]*\])>")
_ADDR_SPEC = re.compile(rf"{_DOT_ATOM}@{_DOT_ATOM}")
_URI = re.compile(r"(mailto|https?):[!#-;=?-~]+")  # printable ASCII but space, '"', '<', '>'
_WHITESPACE = re.compile(r"[ \t]+")
_PRINTABLE_ASCII = re.compile(r"[ -~]*")
_ATOMS = re.compile(rf"{_ATEXT}+(?: {_ATEXT}+)*")


class UnsafeHeaderError(ValueError):
    """A header value that would break the message's structure (a line break, bad syntax)."""


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A recipient: a display name from data and an address."""

    name: str
    address: str


def header_text(text: str) -> str:
    """`text` made safe for a display name or a subject (see the module's rule 1)."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split()).replace("=?", "= ?")


def safe_message_id(value: str | None) -> str | None:
    """`value` when it is a strict ``<local@domain>`` Message-ID we may echo, else None."""
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_MESSAGE_ID or "=?" in value or not _MESSAGE_ID.fullmatch(value):
        return None
    return value


def require_message_id(value: str) -> str:
    """Our own Message-ID, which must be safe: raises UnsafeHeaderError otherwise."""
    checked = safe_message_id(value)
    if checked is None or checked != value:
        raise UnsafeHeaderError(f"not a usable Message-ID: {value!r}")
    return checked


def require_ascii_address(address: str) -> str:
    """A plain ASCII ``local@domain`` (our Reply-To and From): raises UnsafeHeaderError."""
    if "=?" in address or not _ADDR_SPEC.fullmatch(address):
        raise UnsafeHeaderError(f"not a plain address: {address!r}")
    return address


def mailto_uri(address: str, *, subject: str) -> str:
    """A ``mailto:`` URI (RFC 6068) for `address` with a subject."""
    require_ascii_address(address)
    return f"mailto:{quote(address, safe='@+.-_')}?subject={quote(subject, safe='')}"


def list_unsubscribe(uris: Sequence[str]) -> tuple[str, str | None]:
    """The List-Unsubscribe value for `uris` and, when one is https, List-Unsubscribe-Post.

    RFC 2369 lists the URIs in angle brackets, most preferred first; RFC 8058's
    one-click header goes with an https URI, and only then.
    """
    if not uris:
        raise UnsafeHeaderError("List-Unsubscribe needs at least one URI")
    for uri in uris:
        if not _URI.fullmatch(uri) or "=?" in uri:
            raise UnsafeHeaderError(f"not a usable List-Unsubscribe URI: {uri!r}")
    one_click = any(uri.startswith("https:") for uri in uris)
    value = ", ".join(f"<{uri}>" for uri in uris)
    return value, ("List-Unsubscribe=One-Click" if one_click else None)


def check_structured(name: str, value: str) -> str:
    """A structured header's value from data: one line of printable ASCII, no encoded-words."""
    if "=?" in value or not value:
        raise UnsafeHeaderError(f"{name} must be plain printable ASCII: {value!r}")
    return _check_ascii_line(name, value)


def _check_ascii_line(name: str, value: str) -> str:
    if not _HEADER_NAME.fullmatch(name):
        raise UnsafeHeaderError(f"not a header name: {name!r}")
    if not _PRINTABLE_ASCII.fullmatch(value):
        raise UnsafeHeaderError(f"{name} must be one line of printable ASCII: {value!r}")
    return value


def format_text(text: str) -> str:
    """Text made safe by `header_text`, as an unstructured header value (a Subject).

    Printable ASCII whose words fit a line stays as it is; anything else
    becomes RFC 2047 encoded-words (UTF-8, base64), each short enough for a
    line of its own.
    """
    if _is_plain_ascii(text) and all(len(word) <= 60 for word in text.split()):
        return text
    return _encoded_words(text)


def format_mailboxes(mailboxes: Sequence[tuple[str, str]]) -> str:
    """An address-list value from (display name, address) pairs.

    The names are made safe by `header_text` here; the addresses must be
    plain ASCII. A name of atoms stays as it is, other ASCII is a quoted
    string, anything else RFC 2047 encoded-words (allowed in a phrase).
    """
    formatted = []
    for name, address in mailboxes:
        require_ascii_address(address)
        phrase = _phrase(header_text(name))
        formatted.append(f"{phrase} <{address}>" if phrase else address)
    return ", ".join(formatted)


def _phrase(name: str) -> str:
    if not name:
        return ""
    if _ATOMS.fullmatch(name):
        return name
    if _is_plain_ascii(name):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _encoded_words(name)


def _is_plain_ascii(text: str) -> bool:
    return _PRINTABLE_ASCII.fullmatch(text) is not None and "=?" not in text


def _encoded_words(text: str) -> str:
    encoded = Header(text, "utf-8", maxlinelen=_ENCODED_WORD_LENGTH).encode(
        splitchars=" ", linesep="\n"
    )
    return " ".join(encoded.split())


def fold_at_whitespace(name: str, value: str) -> str:
    """``Name: value`` CRLF, for a value of one line of printable ASCII (else
    UnsafeHeaderError), folded only between words: each line at most 78
    characters where the words allow and never more than 998."""
    words = _WHITESPACE.split(_check_ascii_line(name, value).strip()) or [""]
    lines = [f"{name}: {words[0]}".rstrip()]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) <= MAX_LINE:
            lines[-1] += " " + word
        else:
            lines.append(" " + word)
    if any(len(line) > HARD_LIMIT for line in lines):
        raise UnsafeHeaderError(f"{name} has a word longer than a mail line allows")
    return "\r\n".join(lines) + "\r\n"


_UNFOLD = re.compile(r"\r\n(?=[ \t])")


@dataclass(frozen=True, slots=True)
class MeantHeaders:
    """What the headers of a built message must read as once parsed back."""

    names: tuple[str, ...]  # every header, in order
    addresses: dict[str, tuple[tuple[str, str], ...]]  # header -> (display name, addr-spec)
    texts: dict[str, str]  # header -> decoded value


def verify_headers(head: bytes, meant: MeantHeaders) -> None:
    """Parse a message's header block `head`, as SMTP will send it, and compare it
    with what was meant.

    The reading is an RFC 2047 reader's (as mail programs decode): adjacent
    encoded-words join without the space between them. Raises
    UnsafeHeaderError when a line is not ASCII, too long, or not a header or
    its continuation, or when the names or values read back differ from
    `meant` (an extra header, another recipient, a changed subject).
    """
    _check_lines(head)
    parsed = BytesHeaderParser(policy=compat32).parsebytes(head + b"\r\n")
    names = tuple(parsed.keys())
    if [n.lower() for n in names] != [n.lower() for n in meant.names]:
        raise UnsafeHeaderError(f"headers read back as {names}, meant {meant.names}")
    for name, expected in meant.addresses.items():
        got = tuple(
            (_decoded(display_name), address)
            for display_name, address in getaddresses(_raw_values(parsed, name))
        )
        if got != expected:
            raise UnsafeHeaderError(f"{name} reads back as {got!r}, meant {expected!r}")
    for name, text in meant.texts.items():
        got_text = " ".join(_decoded(value) for value in _raw_values(parsed, name))
        if got_text != text:
            raise UnsafeHeaderError(f"{name} reads back as {got_text!r}, meant {text!r}")


def _raw_values(parsed: Message, name: str) -> list[str]:
    return [_UNFOLD.sub("", str(value)) for value in parsed.get_all(name, [])]


def _decoded(value: str) -> str:
    return str(make_header(decode_header(value)))


def _check_lines(head: bytes) -> None:
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise UnsafeHeaderError("a header is not 7-bit ASCII") from None
    if not text.endswith("\r\n"):
        raise UnsafeHeaderError("the header block does not end with CRLF")
    for line in text[:-2].split("\r\n"):
        if "\r" in line or "\n" in line or "\x00" in line:
            raise UnsafeHeaderError("a header holds a bare CR, LF or NUL")
        if len(line) > HARD_LIMIT:
            raise UnsafeHeaderError("a header line is longer than 998 characters")
        if not line or (line[0] not in " \t" and ":" not in line):
            raise UnsafeHeaderError(f"neither a header nor a continuation: {line!r}")
