"""Who sent a message, read strictly enough to trust: the addr-spec of exactly one From mailbox.

`mime.addresses_in` reads addresses leniently, for listing; that leniency is
what lets a forger be taken for a participant (a display name that is itself
an address, an encoded-word that decodes to one, a second address after the
first). `read_sender` reads the raw header with the standard library's
RFC 5322 parser, refuses everything it had to guess about, and says why.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from email.errors import HeaderParseError, ObsoleteHeaderDefect
from email.headerregistry import Address, HeaderRegistry
from email.message import Message
from typing import Any

from tracker.inbound.mime import raw_header_values

# A From or Sender field longer than this is not a person's address.
MAX_SENDER_HEADER_CHARS = 2000
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?", re.ASCII)
_ADDRESS_LIKE = re.compile(
    r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@.]+(?:\.[^\s<>()\[\]\"',;:@.]+)+"
)
# "Name <addr>" with exactly one angle-addr, at the end.
_NAME_ANGLE_ADDR = re.compile(r"^([^<>]*)<([^<>]*)>\s*$")
_BARE_ADDRESS_NAME = re.compile(r"^\s*([^\s<>\"@]+@[^\s<>\"@]+)\s*<([^<>]*)>\s*$")
_REGISTRY = HeaderRegistry()

# The plain shape of nearly every real From field, whose strict reading is
# known without the standard library's parser (which costs ~0.1 ms a run, and
# runs twice a field): a dot-atom address, bare or in angle brackets after a
# display name of words that cannot hold an "@", CR or LF (atoms without
# specials, "=" or "?"; encoded-words whose octets hold none, in a charset that
# writes each only as its ASCII octet). tests/unit/test_inbound_fast_paths.py
# compares both readings.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=^_`{|}~-]"  # without "?": no encoded-word fits in
_PLAIN_ADDRESS = rf"{_ATEXT}+(?:\.{_ATEXT}+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# Groups: the charset, then the text of a B or of a Q encoded-word (printable ASCII).
_PLAIN_ENCODED_WORD = (
    r"=\?([A-Za-z0-9_-]+)\?(?:[bB]\?([A-Za-z0-9+/]*={0,2})|[qQ]\?([\x21-\x3e\x41-\x7e]*))\?="
)
_PLAIN_ATOM = r"""[^\s()<>@,:;.\\"\[\]=?\x00-\x1f\x7f\ud800-\udfff]+"""
_PLAIN_NAME_WORD = rf"(?:{_PLAIN_ATOM}|{_PLAIN_ENCODED_WORD})"
_PLAIN_FIELD = re.compile(
    rf"[ \t]*(?:(?P<bare>{_PLAIN_ADDRESS})"
    rf"|(?P<name>(?:{_PLAIN_NAME_WORD}(?:[ \t]+{_PLAIN_NAME_WORD})*)?)[ \t]*"
    rf"<(?P<address>{_PLAIN_ADDRESS})>)[ \t]*"
)
_ENCODED_WORD_PARTS = re.compile(_PLAIN_ENCODED_WORD)
_Q_ESCAPE = re.compile(rb"=([a-fA-F0-9]{2})")
# Codecs in which "@", CR and LF decode only from their ASCII octets (not
# UTF-7, UTF-16 or EBCDIC, for instance).
_ASCII_COMPATIBLE_CODECS = frozenset(
    {"utf-8", "ascii", "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "cp950", "shift_jis"}
    | {"cp932", "euc_jp", "euc_kr", "cp949", "koi8-r", "koi8-u"}
    | {f"iso8859-{n}" for n in range(1, 17) if n != 12}
    | {f"cp125{n}" for n in range(9)}
)


@dataclass(frozen=True, slots=True)
class SenderReading:
    """The trusted sender address (lower-cased), or None and the reason in plain words."""

    address: str | None
    problem: str | None


def _refused(problem: str) -> SenderReading:
    return SenderReading(address=None, problem=problem)


def _one_mailbox(field: str, value: str) -> SenderReading:
    """The addr-spec of the single mailbox in one raw address field, strictly.

    1. Bound the length; the parser is not linear on hostile input.
    2. A field of the plain shape is its address (`plain_address`): the
       parser would read it so, without a defect.
    3. Any other field is read by the parser (`strict_mailbox`).
    """
    if len(value) > MAX_SENDER_HEADER_CHARS:
        return _refused(f"the {field} header is longer than {MAX_SENDER_HEADER_CHARS} characters")
    value = _quote_address_as_name(value)
    plain = plain_address(value)
    if plain is not None:
        return SenderReading(address=plain.lower(), problem=None)
    return strict_mailbox(field, value)


def plain_address(value: str) -> str | None:
    """The address of a From field of the plain shape (see `_PLAIN_FIELD`), else None."""
    found = _PLAIN_FIELD.fullmatch(value)
    if found is None:
        return None
    for word in _ENCODED_WORD_PARTS.finditer(found.group("name") or ""):
        if not _decodes_to_plain_text(*word.groups()):
            return None
    return found.group("bare") or found.group("address")


def _decodes_to_plain_text(charset: str, b_text: str | None, q_text: str | None) -> bool:
    """Whether an encoded-word surely decodes to text without "@", CR or LF."""
    try:
        if codecs.lookup(charset).name not in _ASCII_COMPATIBLE_CODECS:
            return False
    except LookupError:
        return False
    if q_text is not None:
        octets = _Q_ESCAPE.sub(_q_octet, q_text.encode("ascii").replace(b"_", b" "))
    elif b_text is not None and len(b_text) % 4 == 0:
        try:
            octets = base64.b64decode(b_text, validate=True)
        except binascii.Error:
            return False
    else:
        return False  # unpadded: the parser pads it, and deciding is left to it
    return not any(octet in octets for octet in (b"@", b"\r", b"\n"))


def _q_octet(escape: re.Match[bytes]) -> bytes:
    return bytes.fromhex(escape.group(1).decode("ascii"))


def strict_mailbox(field: str, value: str) -> SenderReading:
    """The addr-spec of the single mailbox in `value`, by the standard library's parser.

    1. Parse the whole field (RFC 5322): a group, no mailbox, several
       mailboxes or an obsolete route: refused.
    2. `Name <addr>`: an encoded-word between the angle brackets, or a name
       that is itself another address, is refused; the address alone is then
       parsed again and must have no defect (the name may have some: clients
       mislabel its charset all the time).
    3. A bare address: no defect at all, and it must appear as written (an
       encoded-word the parser decoded into the address is refused).
    """
    header = _parsed(field, value)
    if header is None:
        return _refused(f"the {field} address is malformed (it cannot be parsed)")
    if any(group.display_name is not None for group in header.groups):
        return _refused(f"a group instead of a mailbox in {field}")
    addresses: tuple[Address, ...] = header.addresses
    if not addresses:
        return _refused(f"no {field} address")
    if any("route" in str(d) for d in header.defects if isinstance(d, ObsoleteHeaderDefect)):
        return _refused(f"an obsolete route in the {field} address")
    named = _NAME_ANGLE_ADDR.match(value)
    if named is not None:
        name, inner = named.group(1), named.group(2).strip()
        if _ENCODED_WORD.search(inner):
            return _refused("an encoded-word inside the address")
        for found in _ADDRESS_LIKE.findall(f"{name} {addresses[0].display_name}"):
            if found.casefold() != inner.casefold():
                return _refused(f"the {field} display name is another address ({found.lower()})")
        if len(addresses) > 1:
            return _refused(f"several {field} addresses")
        return _strict_address(field, f"<{inner}>", inner)
    if len(addresses) > 1:
        return _refused(f"several {field} addresses")
    return _strict_address(field, value, value)


def _strict_address(field: str, value: str, written: str) -> SenderReading:
    """The one addr-spec in `value` when the parser found no defect and it is as `written`."""
    header = _parsed(field, value)
    if header is None:
        return _refused(f"the {field} address is malformed (it cannot be parsed)")
    addresses: tuple[Address, ...] = header.addresses
    for defect in header.defects:
        if isinstance(defect, ObsoleteHeaderDefect) and "route" not in str(defect):
            continue
        if "encoded" in str(defect) and _ENCODED_WORD.search(written):
            return _refused("an encoded-word inside the address")
        return _refused(f"the {field} address is malformed ({defect})")
    if len(addresses) != 1:
        return _refused(f"the {field} address is malformed ({written.strip()[:80]})")
    mailbox = addresses[0]
    addr_spec = str(mailbox.addr_spec)
    if not mailbox.username or not mailbox.domain:
        return _refused(f"the {field} address is incomplete ({addr_spec})")
    if addr_spec.casefold() not in written.casefold():
        if _ENCODED_WORD.search(written):
            return _refused("an encoded-word inside the address")
        return _refused(f"the {field} address is malformed ({written.strip()[:80]})")
    return SenderReading(address=addr_spec.lower(), problem=None)


def _parsed(field: str, value: str) -> Any:
    """The parsed address header, or None where the standard library's parser fails.

    Truncated addresses ("tanaka@") make it raise IndexError: a defect of the
    input, which it reports in its own way.
    """
    try:
        return _REGISTRY(field, value)
    except (IndexError, ValueError, TypeError, AttributeError, HeaderParseError):
        return None


def _quote_address_as_name(value: str) -> str:
    """`a@b <a@b>` (some clients write the address as its own name) as `"a@b" <a@b>`."""
    found = _BARE_ADDRESS_NAME.match(value)
    if found is None or found.group(1).casefold() != found.group(2).strip().casefold():
        return value
    return f'"{found.group(1)}" <{found.group(2)}>'


def read_sender(message: Message) -> SenderReading:
    """The one trusted sender of `message`: its From mailbox, with Sender agreeing if present.

    Two From fields, or a Sender that names another address, make the sender
    ambiguous; so does anything `_one_mailbox` refuses.
    """
    froms = raw_header_values(message, "From")
    if not froms or not "".join(froms).strip():
        return _refused("no From address")
    if len(froms) > 1:
        return _refused(f"{_count_words(len(froms))} From headers")
    reading = _one_mailbox("From", froms[0])
    if reading.address is None:
        return reading
    senders = raw_header_values(message, "Sender")
    if not senders:
        return reading
    if len(senders) > 1:
        return _refused(f"{_count_words(len(senders))} Sender headers")
    sender = _one_mailbox("Sender", senders[0])
    if sender.address is None:
        return sender
    if sender.address != reading.address:
        return _refused(f"Sender ({sender.address}) differs from From ({reading.address})")
    return reading


def _count_words(count: int) -> str:
    return {2: "two", 3: "three"}.get(count, str(count))
