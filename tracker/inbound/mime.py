"""Decoding a raw RFC 5322 message: headers and the body a person wrote.

The standard library parses the structure (it never raises on bad MIME; it
records defects). Charsets are decoded here instead of by `get_content()`,
because `charsets.decode_text` survives the mislabelled mail that the
standard codecs reject.
"""

from __future__ import annotations

import binascii
import email.parser
import email.policy
import email.utils
import io
import quopri
import re
from collections.abc import Iterator
from email.message import Message

from tracker.inbound.charsets import decode_text
from tracker.inbound.html_text import html_to_text

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_ENCODED_WORDS = re.compile(r"(\?=)\s+(=\?)")
# The feed parser's own patterns (email.feedparser's headerRE and NLCRE; a
# test checks they are the same): a header or continuation line, a line break.
FEED_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")
FEED_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FOLD = re.compile(r"\r?\n[ \t]")
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
# The plain shape of nearly every address field: one dot-atom address, bare or
# in angle brackets after a name of words without specials. How
# `email.utils.getaddresses` reads it is known (the words joined by a space,
# the address as written) without its loop over every character (~20 µs a
# field); tests/unit/test_inbound_fast_paths.py compares both readings.
_DOT_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_PLAIN_WORD = r"""[^\s()<>@,:;.\\"\[\]]+"""
_PLAIN_ADDRESS = rf"{_DOT_ATOM}@{_DOT_ATOM}"
_PLAIN_MAILBOX = re.compile(
    rf"[ \t]*(?:(?P<bare>{_PLAIN_ADDRESS})"
    rf"|(?P<name>(?:{_PLAIN_WORD}(?:[ \t]+{_PLAIN_WORD})*)?)[ \t]*<(?P<address>{_PLAIN_ADDRESS})>"
    r")[ \t]*"
)


class HeaderFields:
    """The header fields of one message by lower-cased name, each field unfolded and decoded once.

    Reading one message asks for the same fields many times (the sender, the
    classification and the threading each read From, Subject…).
    """

    def __init__(self, message: Message) -> None:
        self._raw: dict[str, list[str]] = {}
        for key, value in message.raw_items():
            if isinstance(value, str):
                self._raw.setdefault(key.lower(), []).append(value)
        self._unfolded: dict[str, tuple[str, ...]] = {}
        self._decoded: dict[str, tuple[str, ...]] = {}

    def unfolded_values(self, name: str) -> tuple[str, ...]:
        """Every occurrence of field `name`, by `unfold_raw_value`."""
        wanted = name.lower()
        values = self._unfolded.get(wanted)
        if values is None:
            values = tuple(unfold_raw_value(value) for value in self._raw.get(wanted, ()))
            self._unfolded[wanted] = values
        return values

    def decoded_values(self, name: str) -> tuple[str, ...]:
        """Every occurrence of field `name`, by `decode_header_value`."""
        wanted = name.lower()
        values = self._decoded.get(wanted)
        if values is None:
            values = tuple(_decode_unfolded(value) for value in self.unfolded_values(wanted))
            self._decoded[wanted] = values
        return values


class ReadMessage(Message):
    """A message as `read_message` parsed it (never changed afterwards): its fields indexed once."""

    indexed_fields: HeaderFields | None = None


def _fields(message: Message) -> HeaderFields:
    if not isinstance(message, ReadMessage):
        return HeaderFields(message)  # a message parsed elsewhere: indexed for this question
    if message.indexed_fields is None:
        message.indexed_fields = HeaderFields(message)
    return message.indexed_fields


def read_message(raw: bytes) -> Message:
    """The parsed message tree; the compat32 policy keeps raw header text for our decoder.

    A message that is not a container (multipart, message/*) and has a plain
    header section is built here as the feed parser builds it (its fields,
    then all the text after the blank line as the body), without the
    parser's machinery, which handles every line through a generator.
    """
    # Pipes and saved files may start with blank lines or an mbox "From " line,
    # which would otherwise turn every header into body text.
    raw = raw.lstrip(b"\r\n\t ")
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    text = raw.decode("ascii", "surrogateescape")  # as BytesParser decodes
    plain = _plain_header_section(text)
    if plain is not None:
        fields, end = plain
        message = ReadMessage(email.policy.compat32)
        for field in fields:
            message.set_raw(*email.policy.compat32.header_source_parse(field))
        if message.get_content_maintype() not in ("multipart", "message"):
            message.set_payload(text[end:])
            return message
    return email.parser.Parser(ReadMessage, policy=email.policy.compat32).parsestr(text)


def _plain_header_section(text: str) -> tuple[list[list[str]], int] | None:
    """The lines of each header field and where the body starts, for a plain header section.

    Plain: header lines as the feed parser sees them (its lines, its pattern)
    up to a blank line, none of which it treats apart (a first line that
    continues nothing, a "From " line, a line opening with ":"). Else None.
    """
    fields: list[list[str]] = []
    end = 0
    for line in iter(io.StringIO(text, newline="").readline, ""):  # the parser's lines
        end += len(line)
        if not FEED_HEADER_LINE.match(line):
            return (fields, end) if FEED_LINE_BREAK.match(line) else None
        if line[0] in " \t":
            if not fields:
                return None
            fields[-1].append(line)
        elif line.startswith("From ") or line.startswith(":"):
            return None
        else:
            fields.append([line])
    return None


def _raw_header_bytes(value: str) -> bytes:
    # Headers parsed from bytes keep undecodable 8-bit octets as surrogates.
    return value.encode("utf-8", "surrogateescape")


def _decode_encoded_word(encoding: str, payload: str) -> bytes:
    data = payload.encode("ascii", "replace")
    if encoding in "bB":
        padded = data + b"=" * (-len(data) % 4)
        try:
            return binascii.a2b_base64(padded)
        except binascii.Error:
            return data
    return quopri.decodestring(data.replace(b"_", b" "), header=True)


def unfold_raw_value(value: str) -> str:
    """A raw header value unfolded, its 8-bit octets decoded, encoded-words left as written."""
    text = decode_text(_raw_header_bytes(value))
    return _FOLD.sub(" ", text).replace("\r", "").replace("\n", "").replace("\x00", "")


def decode_header_value(value: str) -> str:
    """A header's text: 8-bit octets and RFC 2047 encoded words decoded, lines unfolded.

    1. Recover the original octets and decode any 8-bit text with `decode_text`.
    2. Join adjacent encoded words (whitespace between them is not text), then
       decode each with its declared charset, widened by `decode_text`.
    """
    return _decode_unfolded(unfold_raw_value(value))


def _decode_unfolded(value: str) -> str:
    """Step 2 of `decode_header_value`."""
    text = _BETWEEN_ENCODED_WORDS.sub(r"\1\2", value)

    def replace(match: re.Match[str]) -> str:
        charset = match.group(1).split("*", 1)[0]  # drop an RFC 2231 language suffix
        return decode_text(_decode_encoded_word(match.group(2), match.group(3)), charset)

    # A decoded encoded-word may hold CR, LF, NUL or other controls: never part of a header's text.
    return _CONTROLS.sub(" ", _ENCODED_WORD.sub(replace, text)).strip()


def header_values(message: Message, name: str) -> list[str]:
    """Every occurrence of header `name`, decoded."""
    return list(_fields(message).decoded_values(name))


def raw_header_values(message: Message, name: str) -> list[str]:
    """Every occurrence of header `name`, unfolded, encoded-words not yet decoded.

    Structured fields (addresses) must be parsed before their encoded-words are
    decoded: decoding first is how an `=40` becomes an `@` in an address.
    """
    return list(_fields(message).unfolded_values(name))


def header_text(message: Message, name: str) -> str | None:
    """The first occurrence of header `name`, decoded, or None."""
    values = _fields(message).decoded_values(name)
    return values[0] if values else None


def addresses_in(values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs from address headers, empty addresses dropped."""
    if not values:
        return []  # an absent field, without building the address parser
    plain = [_PLAIN_MAILBOX.fullmatch(value) for value in values]
    if all(plain):
        return [
            (" ".join((found["name"] or "").split()), (found["bare"] or found["address"]).lower())
            for found in plain
            if found is not None
        ]
    found: list[tuple[str, str]] = []
    for name, address in email.utils.getaddresses(values):
        address = address.strip().strip("<>").lower()
        if "@" in address:
            found.append((name.strip(), address))
    return found


def part_text(part: Message) -> str:
    """A leaf part's payload as text: transfer encoding undone, charset decoded."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    try:
        charset = part.get_content_charset()
    except (LookupError, ValueError, TypeError):
        charset = None
    text = decode_text(payload, charset)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";", 1)[0].strip().lower()
    return disposition == "attachment"


def _body_parts(message: Message) -> Iterator[tuple[Message, str]]:
    """Leaf parts in reading order with their types, not descending into attached messages."""
    stack = [message]
    while stack:
        part = stack.pop()
        content_type = part.get_content_type()
        maintype = content_type.split("/", 1)[0]
        if maintype == "multipart":
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(reversed([c for c in children if isinstance(c, Message)]))
                continue
            # A multipart with no boundary in its body: the text is the body.
            yield part, "text/plain"
            continue
        if maintype == "message":
            continue
        yield part, content_type


def body_text(message: Message) -> tuple[str, bool]:
    """The text of the message's main body and whether it came from HTML.

    1. Take the first inline text/plain part that holds any text.
    2. Failing that, the first inline text/html part, converted to text.
    3. Failing that, a part with no declared type (a bare 8-bit body).
    """
    plain: str | None = None
    html: str | None = None
    for part, content_type in _body_parts(message):
        if _is_attachment(part):
            continue
        if content_type == "text/plain" and plain is None:
            text = part_text(part)
            if text.strip():
                plain = text
        elif content_type == "text/html" and html is None:
            html = part_text(part)
    if plain is not None:
        return plain, False
    if html is not None:
        return html_to_text(html), True
    return "", False
