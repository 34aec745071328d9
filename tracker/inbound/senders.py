"""Who sent a message, read strictly enough to trust: the addr-spec of exactly one From mailbox.

`mime.addresses_in` reads addresses leniently, for listing; that leniency is
what lets a forger be taken for a participant (a display name that is itself
an address, an encoded-word that decodes to one, a second address after the
first). `read_sender` reads the raw header with the standard library's
RFC 5322 parser, refuses everything it had to guess about, and says why.
"""

from __future__ import annotations

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
    2. Parse the whole field (RFC 5322): a group, no mailbox, several
       mailboxes or an obsolete route: refused.
    3. `Name <addr>`: an encoded-word between the angle brackets, or a name
       that is itself another address, is refused; the address alone is then
       parsed again and must have no defect (the name may have some: clients
       mislabel its charset all the time).
    4. A bare address: no defect at all, and it must appear as written (an
       encoded-word the parser decoded into the address is refused).
    """
    if len(value) > MAX_SENDER_HEADER_CHARS:
        return _refused(f"the {field} header is longer than {MAX_SENDER_HEADER_CHARS} characters")
    value = _quote_address_as_name(value)
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
